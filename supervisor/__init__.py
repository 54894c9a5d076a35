"""The supervisor: HTTP front, routing, worker pool, flow control."""
