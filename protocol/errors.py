"""Errors raised by the protocol layer."""


class ProtocolError(ValueError):
    """A frame that cannot be accepted: malformed, unknown, or not allowed in this state."""


class FlowControlError(ProtocolError):
    """A peer sent more body bytes than it had been granted."""
