"""The customers' chat page end to end: Chromium, the real agent, the bridge, Slack (emulated).

A customer talks to the AI, asks for a person, gets answers from an operator in Slack (and
one the operator writes as the AI), is handed back and talks to the AI again; the page
rides out an agent restart and a reload; a second browser profile sees none of it, a
message that looks like HTML stays text and only http(s) addresses become links. Each step
is checked on the page's text and saved as a screenshot in the test's ``tmp_path``. Prints
the time from an operator's reply in Slack to the page (p50/p95).
"""

import asyncio
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import aiohttp
from playwright.async_api import BrowserContext, ConsoleMessage, Locator, Page, Request, expect

from tests.bridge.helpers import root_of
from tests.browser.conftest import OpenProfile, requires_chromium
from tests.slack_emulator import ids
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.messages import Message
from tests.support.bridge import HANDOFF_CHANNEL, BridgeProcess
from tests.support.processes import AgentServer

AGENT_NAME: Final = "Insurance Support Agent"
STORAGE_KEY: Final = "insurance-support-chat/v1"
WELCOME: Final = "Chat with our virtual assistant"
CONNECTING: Final = "You're being connected to our support team."
BACK: Final = "You're back with our virtual assistant."
POLICY_QUESTION: Final = "What does my policy cover?"
ALICE_HELLO: Final = "Hi, I'm Alice from the claims team. I'm looking at your policy now."
AS_AI: Final = "Your claim CLM-4521 is approved; the payment is on its way."
XSS: Final = '<img src=x onerror="window.__pwned=1">'
LINKS: Final = "See https://example.com/claims?id=7. Not javascript:window.__pwned=2 though."
TIMING_REPLIES: Final = 20
WAIT_MS: Final = 15_000
NOT_SERVED: Final = "no chat page: agent/server.py's configure_api must call add_chat_page(app)"

# Records every text the typing indicator showed, however briefly (the offline model is fast).
TYPING_PROBE: Final = """
window.__typingSeen = [];
document.addEventListener("DOMContentLoaded", () => {
  const typing = document.getElementById("typing");
  if (!typing) return;
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) window.__typingSeen.push(node.textContent);
    }
  }).observe(typing, { childList: true });
});
"""


class PageWatch:
    """What a page did that a user would not see: errors, and its long-polls at once."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.in_flight: set[Request] = set()
        self.most_at_once = 0
        self.long_polls = 0
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium logs every non-2xx answer (504: a long-poll with nothing new).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _started(self, request: Request) -> None:
        if is_long_poll(request):
            self.long_polls += 1
            self.in_flight.add(request)
            self.most_at_once = max(self.most_at_once, len(self.in_flight))

    def _ended(self, request: Request) -> None:
        self.in_flight.discard(request)

    def navigated(self) -> None:
        """A reload ends the old document's requests, whenever Playwright reports it."""
        self.in_flight.clear()


def is_long_poll(request: Request) -> bool:
    url = urlsplit(request.url)
    wait = parse_qs(url.query).get("wait_for_data", ["0"])[0]
    return request.method == "GET" and url.path.endswith("/events") and wait != "0"


class Steps:
    """Each step: its texts checked on the page, then a screenshot in ``tmp_path``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def check(
        self, page: Page, name: str, present: Sequence[str] = (), absent: Sequence[str] = ()
    ) -> Path:
        body = page.locator("body")
        for text in present:
            await expect(body).to_contain_text(text, timeout=WAIT_MS)
        shown = await body.inner_text()
        for text in absent:
            assert text not in shown, f"{text!r} on the page at step {name!r}:\n{shown}"
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        await page.screenshot(path=path)
        return path


INSTRUCTION = "the claim was approved; confirm it and close politely"
INSTRUCTION_SHOWN = "The claim was approved; confirm it and close politely."


def message(page: Page, role: str, text: str) -> Locator:
    return page.locator(f"#messages > li.message.{role}", has_text=text)


def notice(page: Page, kind: str) -> Locator:
    return page.locator(f'#messages > li.notice[data-notice="{kind}"]')


async def say(page: Page, text: str) -> None:
    await page.locator("#message").fill(text)
    await page.locator("#message").press("Enter")


async def stored_session(page: Page) -> dict[str, Any] | None:
    stored: dict[str, Any] | None = await page.evaluate(
        "key => JSON.parse(localStorage.getItem(key))", STORAGE_KEY
    )
    return stored


async def transcript(page: Page) -> list[str]:
    items = page.locator("#messages > li")
    return [" | ".join((await item.inner_text()).split("\n")) for item in await items.all()]


async def first_page(profile: BrowserContext) -> Page:
    page = profile.pages[0] if profile.pages else await profile.new_page()
    await page.add_init_script(TYPING_PROBE)
    return page


async def thread_root(emulator: SlackEmulator, session_id: str) -> Message:
    await emulator.wait_until(lambda: root_of(emulator, session_id) is not None, 20)
    root = root_of(emulator, session_id)
    assert root is not None
    return root


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@requires_chromium
async def test_customer_chat_page(
    bridge_agent: AgentServer,
    bridge: BridgeProcess,
    slack_emulator: SlackEmulator,
    open_profile: OpenProfile,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    steps = Steps(tmp_path)
    page = await first_page(await open_profile("customer"))
    watch = PageWatch(page)

    # The page, served by the agent with a strict policy; no session until the first message.
    response = await page.goto(f"{bridge_agent.url}/")
    assert response is not None
    assert response.status == 200, f"{NOT_SERVED} (GET / answered {response.status})"
    policy = response.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'"):
        assert directive in policy
    assert "unsafe" not in policy
    await expect(page.locator("h1")).to_have_text(AGENT_NAME)
    await expect(notice(page, "welcome")).to_contain_text(WELCOME)
    assert await stored_session(page) is None

    # 1. The AI answers, under the agent's name; the indicator showed while it worked.
    await say(page, POLICY_QUESTION)
    answer = message(page, "agent", "POL-7788")
    await expect(answer).to_have_count(1, timeout=WAIT_MS)
    await expect(answer.locator(".author-name")).to_have_text(AGENT_NAME)
    await expect(answer.locator(".support-mark")).to_have_count(0)
    question = message(page, "customer", POLICY_QUESTION)
    await expect(question.locator(".author-name")).to_have_text("You")
    typing_seen: list[str] = await page.evaluate("() => window.__typingSeen")
    assert any(text.startswith(f"{AGENT_NAME} is") for text in typing_seen), typing_seen
    await expect(page.locator("#typing")).to_be_hidden()
    await steps.check(page, "ai-answers", present=[AGENT_NAME, "POL-7788", POLICY_QUESTION])

    # 2. The customer asks for a person: the page says so; a thread opens in Slack.
    await say(page, "I want to talk to a human")
    await expect(notice(page, "handoff")).to_have_text(CONNECTING, timeout=WAIT_MS)
    session = await stored_session(page)
    assert session is not None and session["token"]
    root = await thread_root(slack_emulator, session["id"])
    await steps.check(page, "handoff", present=[CONNECTING])

    # 3. Alice answers in the thread: her name, the support mark, and that she joined.
    await slack_emulator.post_message(ids.ALICE, HANDOFF_CHANNEL, ALICE_HELLO, thread_ts=root.ts)
    hello = message(page, "operator", ALICE_HELLO)
    await expect(hello.locator(".author-name")).to_have_text("alice", timeout=WAIT_MS)
    await expect(hello.locator(".support-mark")).to_have_text("Support team")
    await expect(notice(page, "joined")).to_have_text("alice joined")
    await steps.check(page, "operator-replies", present=["alice joined", ALICE_HELLO])

    # 4. Operator reply in Slack -> on the page, over many replies.
    seconds: list[float] = []
    for n in range(1, TIMING_REPLIES + 1):
        text = f"Still checking your file: note {n} of {TIMING_REPLIES}."
        posted = time.monotonic()
        await slack_emulator.post_message(ids.ALICE, HANDOFF_CHANNEL, text, thread_ts=root.ts)
        await message(page, "operator", text).wait_for(timeout=WAIT_MS)
        seconds.append(time.monotonic() - posted)
    print(
        f"\noperator reply -> customer page over {len(seconds)} replies: "
        f"p50 {statistics.median(seconds) * 1000:.0f} ms, "
        f"p95 {percentile(seconds, 0.95) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"
    )
    await expect(notice(page, "joined")).to_have_count(1)
    await steps.check(page, "many-replies", present=[f"note {TIMING_REPLIES} of"])

    # 5. "!ai …" in the thread: shown as the agent's message, not as Alice's.
    await slack_emulator.post_message(ids.ALICE, HANDOFF_CHANNEL, f"!ai {AS_AI}", thread_ts=root.ts)
    as_ai = message(page, "agent", AS_AI)
    await expect(as_ai.locator(".author-name")).to_have_text(AGENT_NAME, timeout=WAIT_MS)
    await expect(as_ai.locator(".bubble")).to_have_text(AS_AI)
    await expect(as_ai.locator(".support-mark")).to_have_count(0)
    await steps.check(page, "operator-as-ai", present=[AS_AI], absent=["!ai"])

    # 6. The hand-back, with an instruction for the AI: the page tells the customer at once
    # (the bridge writes a custom event that wakes the page's long-poll; without it, only
    # the 10 s session check), then the AI speaks, following the instruction.
    await slack_emulator.click_button(ids.ALICE, HANDOFF_CHANNEL, root.ts, "hand_back")
    await slack_emulator.wait_until(lambda: bool(slack_emulator.views_opened(ids.ALICE)))
    modal = slack_emulator.views_opened(ids.ALICE)[-1]
    submitted = time.monotonic()
    await slack_emulator.submit_view(
        ids.ALICE,
        modal.id,
        {"instruction": {"text": {"type": "plain_text_input", "value": INSTRUCTION}}},
    )
    await expect(notice(page, "back")).to_have_text(BACK, timeout=5_000)
    print(f"hand-back -> customer page: {time.monotonic() - submitted:.1f} s")
    follows = message(page, "agent", INSTRUCTION_SHOWN)
    await expect(follows).to_have_count(1, timeout=WAIT_MS)
    await steps.check(page, "handed-back", present=[BACK, INSTRUCTION_SHOWN])

    # 7. The AI answers the customer again.
    await say(page, POLICY_QUESTION)
    await expect(answer).to_have_count(2, timeout=WAIT_MS)
    await expect(notice(page, "back")).to_have_count(1)
    await expect(notice(page, "handoff")).to_have_count(1)
    await expect(page.locator("#typing")).to_be_hidden()
    await steps.check(page, "ai-again", present=[BACK, "POL-7788"])

    # 8. The agent restarts: the page says it is reconnecting, then goes on where it was.
    before = await transcript(page)
    await asyncio.to_thread(bridge_agent.stop)
    await expect(page.locator("#connection")).to_be_visible(timeout=WAIT_MS)
    await steps.check(page, "agent-down", present=["reconnecting"])
    restarted = time.monotonic()
    await asyncio.to_thread(bridge_agent.start)
    await expect(page.locator("#connection")).to_be_hidden(timeout=30_000)
    print(f"agent back -> page reconnected: {time.monotonic() - restarted:.1f} s")
    assert await transcript(page) == before
    agent_lines = page.locator("#messages > li.message.agent")
    answered = await agent_lines.count()
    await say(page, "Thanks! Can you also check my claims?")
    await expect(agent_lines).to_have_count(answered + 1, timeout=WAIT_MS)
    await steps.check(page, "reconnected", present=["check my claims"], absent=["reconnecting"])

    # 9. A reload keeps the conversation: same session, same lines, none twice.
    before = await transcript(page)
    await page.reload()
    watch.navigated()
    await expect(page.locator("#messages > li")).to_have_count(len(before), timeout=WAIT_MS)
    assert await transcript(page) == before
    reloaded = await stored_session(page)
    assert reloaded is not None and reloaded["id"] == session["id"]
    await steps.check(page, "reloaded", present=[BACK, ALICE_HELLO, AS_AI])

    # 10. Another browser profile: a fresh start, none of the first customer's conversation.
    other = await first_page(await open_profile("second"))
    other_watch = PageWatch(other)
    await other.goto(f"{bridge_agent.url}/support")
    await expect(notice(other, "welcome")).to_contain_text(WELCOME)
    assert await stored_session(other) is None
    first_customer = ["POL-7788", "alice", ALICE_HELLO, AS_AI, CONNECTING, BACK, POLICY_QUESTION]
    await steps.check(other, "second-profile", present=[WELCOME], absent=first_customer)

    # 11. A message that looks like HTML is shown as text and never runs.
    await say(other, XSS)
    mine = message(other, "customer", "onerror")
    await expect(mine.locator(".bubble")).to_have_text(XSS, timeout=WAIT_MS)
    await expect(other.locator("#messages > li.message.agent")).to_have_count(1, timeout=WAIT_MS)
    assert await other.evaluate("() => window.__pwned") is None
    assert await other.locator("#messages img").count() == 0
    second = await stored_session(other)
    assert second is not None and second["id"] != session["id"]
    await steps.check(other, "html-as-text", present=[XSS], absent=first_customer)
    assert XSS not in await page.locator("body").inner_text()

    # 12. Only http(s) addresses become links, opened apart from the page.
    await say(other, LINKS)
    links = message(other, "customer", "javascript:").locator("a")
    await expect(links).to_have_count(1, timeout=WAIT_MS)
    await expect(links).to_have_attribute("href", "https://example.com/claims?id=7")
    await expect(links).to_have_attribute("rel", "noopener noreferrer nofollow")
    await expect(links).to_have_attribute("target", "_blank")
    await steps.check(other, "links", present=["javascript:window.__pwned=2"])
    assert await other.evaluate("() => window.__pwned") is None

    # Throughout: one long-poll at a time per page, and no script or policy error.
    for watched in (watch, other_watch):
        assert watched.long_polls > 0
        assert watched.most_at_once == 1
        assert watched.errors == []
    print(f"browser test: {time.monotonic() - started:.1f} s, screenshots in {tmp_path}")


async def test_page_parts_are_served_with_the_policy(bridge_agent: AgentServer) -> None:
    """The page and its two files, each with the policy; Parlant's sandbox stays closed."""
    async with aiohttp.ClientSession() as http:
        for path, kind in (
            ("/", "text/html"),
            ("/support", "text/html"),
            ("/support/chat.js", "text/javascript"),
            ("/support/chat.css", "text/css"),
        ):
            async with http.get(f"{bridge_agent.url}{path}", allow_redirects=False) as response:
                assert response.status == 200, f"{NOT_SERVED} ({path} answered {response.status})"
                assert response.content_type == kind, path
                assert "connect-src 'self'" in response.headers["Content-Security-Policy"]
                assert response.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(f"{bridge_agent.url}/chat/", allow_redirects=False) as response:
            assert response.status == 404  # Parlant's sandbox stays closed in production
