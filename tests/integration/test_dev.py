"""``isoflow dev``: the banner, an edit reloads, a compile error keeps the old version, and
Ctrl-C with a stream open stops within the grace with no false "died"."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import aiohttp

from tests.conftest import IsoflowServer, fetch, run, write_files

SCRIPT = {
    "src/word.ts": "export const word: string = 'one';\n",
    "src/index.ts": """
        import { word } from './word';
        export default {
          fetch(request: Request): Response {
            if (new URL(request.url).pathname !== '/stream') return new Response(word);
            let timer: any;
            return new Response(new ReadableStream({
              start(c) { timer = setInterval(() => c.enqueue(new TextEncoder().encode('.')), 50); },
              cancel() { clearInterval(timer); },
            }));
          },
        };
    """,
}


async def interrupt_with_a_stream_open(server: IsoflowServer) -> float:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) while a response
    streams; the seconds until the supervisor exited."""
    async with aiohttp.ClientSession() as session, \
            session.get(server.url("/stream")) as response:
        await response.content.readany()
        start = time.monotonic()
        os.killpg(server.pid, signal.SIGINT)
        await asyncio.to_thread(server.proc.wait, 20)
        return time.monotonic() - start


def test_dev_reloads_on_an_edit_and_stops_at_ctrl_c(tmp_path):
    write_files(tmp_path, SCRIPT)
    server = IsoflowServer(tmp_path / "src/index.ts", tmp_path / "dev.log", "--shutdown-grace",
                           "0.5", workers=1)
    server.args[server.args.index("serve")] = "dev"
    server.start()
    try:
        assert f"isoflow dev: http://127.0.0.1:{server.port}/" in server.log()
        assert "watching  2 files" in server.log()
        assert run(fetch(server.url("/")))[2] == b"one"
        (tmp_path / "src/word.ts").write_text("export const word: string = 'two';\n")
        server.wait_log("reloaded: serving")
        assert run(fetch(server.url("/")))[2] == b"two"
        (tmp_path / "src/word.ts").write_text("export const word: string = ;\n")
        server.wait_log("reload refused")
        assert f"{tmp_path / 'src/word.ts'}:1: SyntaxError: Expression expected." in server.log()
        assert run(fetch(server.url("/")))[2] == b"two"
        took = run(interrupt_with_a_stream_open(server))
        assert took < 0.5 + 2.5, took  # the grace, then the workers stop
        assert server.proc.returncode == 0
        after = server.log().split("reload refused")[1]
        assert "died" not in after and "ERROR" not in after, after
    finally:
        server.stop()
