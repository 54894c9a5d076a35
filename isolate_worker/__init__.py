"""The isolate worker: one process, one asyncio loop, one V8 isolate."""
