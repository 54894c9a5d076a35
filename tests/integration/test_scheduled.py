"""Scheduled events (cron triggers) end to end: the admin trigger, the config, the handler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp

from tests.conftest import fetch, free_port, run
from tests.processes import isoflow

MODULE = """
let runs = [];
export default {
  async fetch(request) {
    return Response.json(runs);
  },
  async scheduled(event, env, ctx) {
    ctx.waitUntil(new Promise((r) => setTimeout(r, 5)));
    if (event.cron === "fail") throw new Error("the job failed");
    runs.push({ cron: event.cron, time: typeof event.scheduledTime, type: event.type });
  },
};
"""


async def post(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.post(url, headers=headers) as r:
        return r.status, await r.text()


def test_a_scheduled_handler_runs_on_the_admin_trigger(serve):
    metrics = free_port()
    server = serve(MODULE, "--metrics", str(metrics), workers=1, name="cron.mjs")
    status, text = run(post(f"http://127.0.0.1:{metrics}/__scheduled?cron=*/5+*+*+*+*"))
    assert status == 200, text
    assert "done in" in text
    runs = run(fetch(server.url("/")))[2]
    assert runs == b'[{"cron":"*/5 * * * *","time":"number","type":"scheduled"}]'


def test_a_failing_scheduled_handler_is_reported(serve):
    metrics = free_port()
    server = serve(MODULE, "--metrics", str(metrics), workers=1, name="cron.mjs")
    status, text = run(post(f"http://127.0.0.1:{metrics}/__scheduled?cron=%0d%0aX:%00"))
    assert status == 400 and "printable" in text  # its tag in the log would split the line
    assert run(post(f"http://127.0.0.1:{metrics}/__scheduled?script=nope"))[0] == 404
    status, text = run(post(f"http://127.0.0.1:{metrics}/__scheduled?cron=fail"))
    assert status == 500 and "the job failed" in text
    server.wait_log(r"Uncaught \(in scheduled event \"fail\"\) Error: the job failed")


def test_service_worker_scheduled_listener(serve):
    metrics = free_port()
    server = serve(
        """
        let seen = "none";
        addEventListener("scheduled", (event) => {
          event.waitUntil(Promise.resolve().then(() => { seen = event.cron; }));
        });
        addEventListener("fetch", (event) => event.respondWith(new Response(seen)));
        """,
        "--metrics", str(metrics), workers=1,
    )
    assert run(post(f"http://127.0.0.1:{metrics}/__scheduled?cron=0+0+*+*+*"))[0] == 200
    assert run(fetch(server.url("/")))[2] == b"0 0 * * *"


def test_a_script_with_only_a_scheduled_handler_is_servable(serve):
    metrics = free_port()
    serve("export default { scheduled() {} };", "--metrics", str(metrics), workers=1,
          name="only.mjs")
    assert run(post(f"http://127.0.0.1:{metrics}/__scheduled"))[0] == 200
    # A page in a browser on this host cannot trigger it (a cross-origin form POST).
    for browser in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        status, text = run(post(f"http://127.0.0.1:{metrics}/__scheduled", browser))
        assert (status, text) == (403, "Not from a browser.\n")


def test_cron_triggers_are_armed_for_the_next_minute(serve):
    """The scheduler arms '* * * * *' for the next minute boundary (tests/test_scheduler.py
    shows that it fires then; waiting here for the boundary would cost up to a minute)."""
    before = datetime.now(UTC)
    server = serve(MODULE, "--cron", "* * * * *", workers=1, name="cron.mjs")
    match = server.wait_log(r"scheduled event '\* \* \* \* \*' of default: next at "
                            r"(\S+ \S+) UTC")[0]
    due = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert timedelta(0) < due - before.replace(second=0, microsecond=0) <= timedelta(minutes=2)


def test_an_invalid_cron_is_refused_at_start(tmp_path):
    script = tmp_path / "cron.mjs"
    script.write_text(MODULE)
    proc = isoflow("serve", str(script), "--cron", "61 * * * *", "--port", str(free_port()))
    assert proc.returncode != 0
    assert "minute: 61 is outside 0-59" in proc.stderr

