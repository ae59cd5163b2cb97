// The customers' chat page: one guest session of this browser, followed by one long-poll.
//
// * The session is opened on the first message (POST /sessions, Parlant's public guest
//   session); its id and customer token (X-Customer-Token, sent on every later call) are
//   kept in localStorage, so a reload continues the same conversation and another browser
//   profile never sees it. No other session is ever listed or read.
// * One long-poll at a time: GET /sessions/{id}/events?min_offset=N&wait_for_data=S,
//   re-issued after each answer (504 = nothing new). A hand-back to the assistant writes no
//   event, so while a person has the conversation the page also reads the session
//   (GET /sessions/{id}) each time a long-poll returns or times out.
// * Errors back off (1 s … 15 s); events are deduplicated by id and ordered by offset, so a
//   server restart loses or repeats nothing.
// * Message text is only ever set with textContent / text nodes; links are made with DOM
//   APIs, http(s) only. The page's Content-Security-Policy also requires Trusted Types.

const STORAGE_KEY = "insurance-support-chat/v1";
const TOKEN_HEADER = "X-Customer-Token";
const KINDS = "message,tool,status,custom";
const WAIT_SECONDS = 30;
// While a person answers: only a session read can reveal a hand-back, so poll a bit more
// often to show it within seconds (still one request at a time).
const WAIT_SECONDS_HANDED_OFF = 10;
const REQUEST_GRACE_MS = 15000;
// Session reads (for the hand-back) at most this often, unless a long-poll timed out.
const SESSION_CHECK_MS = 3000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
const TYPING_STALE_MS = 60000;
const MAX_MESSAGE_LENGTH = 4000;
const HANDOFF_TOOL = "initiate_human_handoff";
const HANDOFF_LABEL = "handoff";
const WORKING_STATUSES = new Set(["acknowledged", "processing", "typing"]);
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

const TEXT = {
  welcome: "Chat with our virtual assistant. You can ask for a person at any time.",
  connecting: "You're being connected to our support team.",
  joined: (name) => `${name} joined`,
  back: "You're back with our virtual assistant.",
  supportMark: "Support team",
  you: "You",
  error: "Sorry — something went wrong on our side. Please try again.",
  lost: "This conversation is no longer available. Send a message to start a new one.",
  offline: "Connection lost — reconnecting…",
  tooFast: "You're sending messages too quickly. Please wait a moment and try again.",
  notSent: "Not sent — check your connection and try again.",
};

function meta(name) {
  const element = document.querySelector(`meta[name="${name}"]`);
  return element ? element.content : "";
}

const AGENT_ID = meta("chat-agent-id");
const AGENT_NAME = meta("chat-agent-name") || "Assistant";

const ui = {
  messages: document.getElementById("messages"),
  typing: document.getElementById("typing"),
  connection: document.getElementById("connection"),
  composer: document.getElementById("composer"),
  input: document.getElementById("message"),
};

const state = {
  session: loadSession(), // {id, token} or null
  nextOffset: 0, // the long-poll's min_offset: one past the highest offset received
  seen: new Set(), // ids of the events already handled
  mode: "ai", // who answers, as far as the events tell: "ai" or "human"
  handoffTrace: null, // trace of the handoff tool call (its own AI reply belongs to it)
  handoffActivity: -1, // offset of the handoff's last event (tool call, operators' messages)
  joined: new Set(), // operators announced since the last handoff
  statusOffset: -1,
  typingTimer: 0,
  poll: null, // AbortController of the one request in flight for the session
  sessionCheckedAt: 0,
  handBackNoticed: false, // a custom "returned_to_ai" event arrived: read the mode now
  sending: Promise.resolve(),
  opening: null,
  wake: null,
};

// --- storage ------------------------------------------------------------------------------

function loadSession() {
  try {
    const stored = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
    if (
      stored &&
      typeof stored.id === "string" &&
      SESSION_ID_PATTERN.test(stored.id) &&
      (stored.token === null || typeof stored.token === "string")
    ) {
      return { id: stored.id, token: stored.token };
    }
  } catch {
    // storage disabled or corrupted: start without a session
  }
  return null;
}

function saveSession(session) {
  try {
    if (session) {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    } else {
      window.localStorage.removeItem(STORAGE_KEY);
    }
  } catch {
    // storage disabled: the session lasts as long as the page
  }
}

// --- API ----------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

function sessionPath(session, suffix = "") {
  return `/sessions/${encodeURIComponent(session.id)}${suffix}`;
}

async function call(session, path, options = {}) {
  const { method = "GET", body, timeoutMs = REQUEST_GRACE_MS, signal } = options;
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session && session.token) headers[TOKEN_HEADER] = session.token;
  const controller = new AbortController();
  const abort = () => controller.abort();
  const timer = window.setTimeout(abort, timeoutMs);
  if (signal) signal.addEventListener("abort", abort, { once: true });
  try {
    return await window.fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
      credentials: "omit",
    });
  } finally {
    window.clearTimeout(timer);
    if (signal) signal.removeEventListener("abort", abort);
  }
}

async function discard(response) {
  try {
    await response.text(); // ends the request at once
  } catch {
    // nothing to read
  }
}

async function openSession() {
  const response = await call(null, "/sessions", {
    method: "POST",
    body: { agent_id: AGENT_ID },
  });
  if (!response.ok) {
    await discard(response);
    throw new HttpError(response.status);
  }
  const created = await response.json();
  if (typeof created.id !== "string" || !SESSION_ID_PATTERN.test(created.id)) {
    throw new Error("unexpected session id");
  }
  // Absent only in development mode, where the API is open to anyone.
  const session = { id: created.id, token: response.headers.get(TOKEN_HEADER) };
  saveSession(session);
  state.session = session;
  follow(session);
  return session;
}

function ensureSession() {
  if (state.session) return Promise.resolve(state.session);
  if (!state.opening) {
    state.opening = openSession().finally(() => {
      state.opening = null;
    });
  }
  return state.opening;
}

// --- following the session ----------------------------------------------------------------

function sleep(ms) {
  return new Promise((resolve) => {
    const timer = window.setTimeout(done, ms);
    function done() {
      window.clearTimeout(timer);
      state.wake = null;
      resolve();
    }
    state.wake = done;
  });
}

function backoff(failures, retryAfter) {
  const seconds = Number.parseFloat(retryAfter || "");
  if (Number.isFinite(seconds) && seconds > 0) return Math.min(seconds * 1000, 60000);
  const base = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length) - 1];
  return base + Math.random() * base * 0.2;
}

async function follow(session) {
  if (state.poll) state.poll.abort(); // at most one long-poll per page
  const controller = new AbortController();
  state.poll = controller;
  let failures = 0;
  while (state.session === session && !controller.signal.aborted) {
    // After a failure, first a quick look (wait 0): it answers at once when the server is
    // back, so the page knows it is connected again without waiting out a long-poll.
    const wait = failures > 0 ? 0 : state.mode === "human" ? WAIT_SECONDS_HANDED_OFF : WAIT_SECONDS;
    const query = `?min_offset=${state.nextOffset}&wait_for_data=${wait}&kinds=${KINDS}`;
    let retryAfter = null;
    try {
      const response = await call(session, sessionPath(session, `/events${query}`), {
        timeoutMs: wait * 1000 + REQUEST_GRACE_MS,
        signal: controller.signal,
      });
      if (state.session !== session || controller.signal.aborted) return;
      if (response.status === 403 || response.status === 404) {
        await discard(response);
        sessionLost(session);
        return;
      }
      const timedOut = response.status === 504;
      if (response.ok) {
        ingest(await response.json());
      } else {
        await discard(response);
        if (response.status !== 504) {
          retryAfter = response.headers.get("Retry-After");
          throw new HttpError(response.status);
        }
      }
      failures = 0;
      showConnection(false);
      const due = Date.now() - state.sessionCheckedAt >= SESSION_CHECK_MS;
      const told = state.handBackNoticed;
      state.handBackNoticed = false;
      if (state.mode === "human" && (timedOut || due || told)) {
        await checkHandBack(session, controller.signal);
      }
    } catch (error) {
      if (state.session !== session || controller.signal.aborted) return;
      failures += 1;
      if (failures > 1 || !(error instanceof HttpError)) showConnection(true);
      await sleep(backoff(failures, retryAfter));
    }
  }
}

async function checkHandBack(session, signal) {
  state.sessionCheckedAt = Date.now();
  const response = await call(session, sessionPath(session), { signal });
  if (response.status === 403 || response.status === 404) {
    await discard(response);
    sessionLost(session);
    return;
  }
  if (!response.ok) {
    await discard(response);
    return; // the next long-poll's return checks again
  }
  const current = await response.json();
  // The handoff tool labels the session before its event is written and the mode turns
  // manual just after; a hand-back clears both at once.
  const labels = Array.isArray(current.labels) ? current.labels : [];
  if (current.mode === "manual" || labels.includes(HANDOFF_LABEL)) return;
  if (state.session !== session) return;
  // Back with the AI. Take in what was written before the hand-back first, so the line
  // lands after it (and an AI reply already there places it itself).
  const query = `?min_offset=${state.nextOffset}&wait_for_data=0&kinds=${KINDS}`;
  const events = await call(session, sessionPath(session, `/events${query}`), { signal });
  if (!events.ok) await discard(events);
  else if (state.session === session) ingest(await events.json());
  if (state.mode === "human" && state.session === session) {
    // Seen live: the line goes after everything received so far.
    backWithAssistant(state.nextOffset - 0.5);
  }
}

function ingest(events) {
  if (!Array.isArray(events)) return;
  const ordered = events
    .filter((event) => event && typeof event.id === "string" && Number.isInteger(event.offset))
    .sort((a, b) => a.offset - b.offset);
  for (const event of ordered) {
    state.nextOffset = Math.max(state.nextOffset, event.offset + 1);
    if (state.seen.has(event.id)) continue;
    state.seen.add(event.id);
    if (event.deleted) continue;
    handle(event);
  }
}

function handle(event) {
  switch (event.kind) {
    case "message":
      handleMessage(event);
      break;
    case "tool":
      handleTool(event);
      break;
    case "status":
      handleStatus(event);
      break;
    case "custom":
      // The bridge notes a hand-back this way: read the session's mode at once.
      if (event.data && event.data.handoff === "returned_to_ai") state.handBackNoticed = true;
      break;
    default:
      break;
  }
}

function isHandoffCall(call) {
  const id = call && typeof call.tool_id === "string" ? call.tool_id : "";
  return id === HANDOFF_TOOL || id.endsWith(`:${HANDOFF_TOOL}`);
}

function handleTool(event) {
  const calls = event.data && Array.isArray(event.data.tool_calls) ? event.data.tool_calls : [];
  if (!calls.some(isHandoffCall)) return;
  if (state.mode === "human" && event.trace_id !== state.handoffTrace) {
    // handed off again: it must have come back to the assistant in between
    backWithAssistant(state.handoffActivity + 0.5);
  }
  if (state.mode !== "human" || event.trace_id !== state.handoffTrace) {
    notice("handoff", TEXT.connecting, event.offset);
    state.joined.clear();
  }
  state.mode = "human";
  state.handoffTrace = event.trace_id;
  state.handoffActivity = event.offset;
}

function messageText(data) {
  if (!data) return "";
  if (typeof data.message === "string" && data.message) return data.message;
  if (Array.isArray(data.chunks)) return data.chunks.filter((c) => typeof c === "string").join("");
  return "";
}

function participantName(data) {
  const participant = data && data.participant;
  const name = participant ? participant.display_name : "";
  return typeof name === "string" ? name.trim() : "";
}

function handleMessage(event) {
  const text = messageText(event.data);
  const time = formatTime(event.creation_utc);
  switch (event.source) {
    case "customer":
      if (!adoptPending(event, text)) {
        messageItem({ event, role: "customer", author: TEXT.you, text, time });
      }
      break;
    case "ai_agent":
      if (state.mode === "human" && event.trace_id !== state.handoffTrace) {
        // The assistant answers again: the session was handed back before this reply
        // (after the handoff's last event; a reload shows the line where it was seen live).
        backWithAssistant(state.handoffActivity + 0.5);
      } else if (state.mode === "human") {
        state.handoffActivity = event.offset;
      }
      messageItem({ event, role: "agent", author: AGENT_NAME, text, time });
      break;
    case "human_agent_on_behalf_of_ai_agent":
      // an operator writing as the assistant: shown as the assistant's message
      if (state.mode === "human") state.handoffActivity = event.offset;
      messageItem({ event, role: "agent", author: AGENT_NAME, text, time });
      break;
    case "human_agent": {
      if (state.mode !== "human") {
        notice("handoff", TEXT.connecting, event.offset - 0.6);
        state.mode = "human";
        state.handoffTrace = null;
        state.joined.clear();
      }
      state.handoffActivity = event.offset;
      const name = participantName(event.data) || TEXT.supportMark;
      const participant = event.data && event.data.participant;
      const key = participant && typeof participant.id === "string" ? participant.id : name;
      if (!state.joined.has(key)) {
        state.joined.add(key);
        notice("joined", TEXT.joined(name), event.offset - 0.3);
      }
      messageItem({ event, role: "operator", author: name, mark: TEXT.supportMark, text, time });
      break;
    }
    default:
      break;
  }
}

function handleStatus(event) {
  if (event.offset < state.statusOffset) return;
  state.statusOffset = event.offset;
  const status = event.data && typeof event.data.status === "string" ? event.data.status : "";
  window.clearTimeout(state.typingTimer);
  if (WORKING_STATUSES.has(status) && state.mode === "ai") {
    const doing = status === "typing" ? "typing" : "thinking";
    ui.typing.textContent = `${AGENT_NAME} is ${doing}`;
    ui.typing.hidden = false;
    state.typingTimer = window.setTimeout(hideTyping, TYPING_STALE_MS);
  } else {
    hideTyping();
  }
  if (status === "error") notice(`error-${event.id}`, TEXT.error, event.offset);
}

function backWithAssistant(sortKey) {
  notice("back", TEXT.back, sortKey);
  state.mode = "ai";
  state.handoffTrace = null;
}

function hideTyping() {
  ui.typing.hidden = true;
  ui.typing.textContent = "";
}

function sessionLost(session) {
  if (state.session !== session) return;
  if (state.poll) state.poll.abort();
  state.poll = null;
  saveSession(null);
  resetConversation();
  notice("lost", TEXT.lost, 0);
}

function resetConversation() {
  state.session = null;
  state.nextOffset = 0;
  state.seen.clear();
  state.mode = "ai";
  state.handoffTrace = null;
  state.handoffActivity = -1;
  state.joined.clear();
  state.statusOffset = -1;
  hideTyping();
  ui.messages.replaceChildren();
  notice("welcome", TEXT.welcome, -1);
}

function showConnection(lost) {
  ui.connection.hidden = !lost;
  ui.connection.textContent = lost ? TEXT.offline : "";
}

// --- rendering (text only: textContent and text nodes, never HTML) -------------------------

function formatTime(value) {
  const date = value ? new Date(value) : new Date();
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function safeLink(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const link = document.createElement("a");
  link.href = url.href;
  link.textContent = raw;
  link.target = "_blank";
  link.rel = "noopener noreferrer nofollow";
  return link;
}

function appendText(element, text) {
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(TRAILING_PUNCTUATION, "");
    if (!raw) continue;
    const start = match.index;
    element.append(text.slice(last, start));
    element.append(safeLink(raw) || raw);
    last = start + raw.length;
  }
  element.append(text.slice(last));
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

function insertSorted(item, sortKey) {
  item.dataset.sort = String(sortKey);
  const existing = item.dataset.key ? findItem(item.dataset.key) : null;
  if (existing && existing !== item) return false;
  const list = ui.messages;
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  let before = null;
  for (let node = ui.messages.lastElementChild; node; node = node.previousElementSibling) {
    if (node !== item && Number(node.dataset.sort) <= sortKey) break;
    if (node !== item) before = node;
  }
  ui.messages.insertBefore(item, before);
  if (nearBottom || item.classList.contains("customer")) {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }
  return true;
}

function findItem(key) {
  for (const node of ui.messages.children) {
    if (node.dataset.key === key) return node;
  }
  return null;
}

function buildMessage({ role, source, author, mark, text, time }) {
  const item = document.createElement("li");
  item.className = `message ${role}`;
  if (source) item.dataset.source = source;
  const header = document.createElement("div");
  header.className = "author";
  header.append(span("author-name", author));
  if (mark) header.append(span("support-mark", mark));
  if (time) header.append(span("time", time));
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  appendText(bubble, text);
  item.append(header, bubble);
  return item;
}

function messageItem({ event, role, author, mark, text, time }) {
  const item = buildMessage({ role, source: event.source, author, mark, text, time });
  item.dataset.key = `event-${event.id}`;
  item.dataset.eventId = event.id;
  insertSorted(item, event.offset);
}

function notice(key, text, sortKey) {
  const item = document.createElement("li");
  item.className = "notice";
  item.dataset.key = `notice-${key}-${sortKey}`;
  item.dataset.notice = key.split("-")[0];
  item.append(span("notice-text", text));
  insertSorted(item, sortKey);
}

// --- sending --------------------------------------------------------------------------------

function pendingItems() {
  return Array.from(ui.messages.querySelectorAll("li.message.customer.pending"));
}

function adoptPending(event, text) {
  const item = pendingItems().find((node) => !node.dataset.eventId && node.dataset.text === text);
  if (!item) return false;
  confirmItem(item, event);
  return true;
}

function confirmItem(item, event) {
  item.classList.remove("pending");
  item.dataset.eventId = event.id;
  item.dataset.key = `event-${event.id}`;
  delete item.dataset.text;
  insertSorted(item, event.offset);
}

function send(text) {
  const item = buildMessage({
    role: "customer pending",
    source: "customer",
    author: TEXT.you,
    text,
    time: formatTime(),
  });
  item.dataset.text = text;
  insertSorted(item, Number.MAX_SAFE_INTEGER);
  // One after the other, so the customer's messages keep their order.
  state.sending = state.sending.then(() => deliver(item, text));
}

async function deliver(item, text) {
  try {
    const session = await ensureSession();
    const response = await call(session, sessionPath(session, "/events"), {
      method: "POST",
      body: { kind: "message", source: "customer", message: text },
    });
    if (response.status === 403 || response.status === 404) {
      await discard(response);
      sessionLost(session);
      restoreDraft(text);
      return;
    }
    if (!response.ok) {
      await discard(response);
      throw new HttpError(response.status);
    }
    const event = await response.json();
    state.seen.add(event.id); // the long-poll brings it too: don't show it twice
    if (!item.dataset.eventId) confirmItem(item, event);
  } catch (error) {
    item.classList.remove("pending");
    item.classList.add("failed");
    const reason = error instanceof HttpError && error.status === 429 ? TEXT.tooFast : TEXT.notSent;
    item.append(span("send-error", reason));
    delete item.dataset.text;
    restoreDraft(text);
  }
}

function restoreDraft(text) {
  if (!ui.input.value.trim()) ui.input.value = text;
}

ui.composer.addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  const text = ui.input.value.trim().slice(0, MAX_MESSAGE_LENGTH);
  if (!text) return;
  ui.input.value = "";
  send(text);
});

ui.input.addEventListener("keydown", (key) => {
  if (key.key === "Enter" && !key.shiftKey && !key.isComposing) {
    key.preventDefault();
    ui.composer.requestSubmit();
  }
});

window.addEventListener("online", () => {
  if (state.wake) state.wake();
});

// --- start ----------------------------------------------------------------------------------

notice("welcome", TEXT.welcome, -1);
if (state.session) follow(state.session);
ui.input.focus();
