// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector("[data-nav-toggle]");
  const nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // On a phone the tab strip scrolls sideways: bring the current tab into view.
  const current = document.querySelector(".tabs [aria-current='page']");
  if (current && current.parentElement.scrollWidth > current.parentElement.clientWidth) {
    current.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  // Close an open dropdown when clicking elsewhere or pressing Escape.
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details[data-dropdown][open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      document.querySelectorAll("details[data-dropdown][open]").forEach((menu) => {
        // Focus inside the menu would be left on a hidden element: give it back to the menu's button.
        const hadFocus = menu.contains(document.activeElement);
        menu.removeAttribute("open");
        if (hadFocus) menu.querySelector("summary").focus();
      });
    }
  });
});

// The Content-Security-Policy allows no inline handlers and no eval (htmx-config in base.html turns htmx's
// off): behaviour that used to sit in attributes lives here.

// A form with data-confirm is sent only once the person confirms its question.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Chat: the poller asks for the messages after the newest one its thread shows.
document.addEventListener("htmx:configRequest", (event) => {
  const poller = event.detail.elt;
  if (!poller.matches || !poller.matches("[data-chat-poller]")) return;
  const shown = poller.closest(".thread").querySelectorAll("[data-message-id]");
  const ids = Array.from(shown, (el) => Number(el.dataset.messageId));
  event.detail.parameters.after = ids.length ? Math.max(...ids) : 0;
});

// Chat: a message that was sent (no error came back into the form) leaves an empty form behind.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (!form.matches || !form.matches("form[data-chat-form]")) return;
  const errors = form.querySelector("#message-errors");
  if (event.detail.successful && !(errors && errors.textContent.trim())) {
    form.reset();
    // The live stream brings the message back to this page; without it, ask at once.
    if (!live.open) pollThread();
  }
});

// A message that arrived twice (a poll racing a send, or the stream) is shown once; new messages scroll into view.
function tidyThread(thread) {
  const seen = new Set();
  thread.querySelectorAll("[data-message-id]").forEach((el) => {
    if (seen.has(el.dataset.messageId)) el.remove();
    else seen.add(el.dataset.messageId);
  });
  thread.scrollTop = thread.scrollHeight;
}
document.addEventListener("htmx:afterSwap", (event) => {
  const thread = event.target.closest ? event.target.closest(".thread") : null;
  if (thread) tidyThread(thread);
});

// The workspace upload: a progress bar while the zip goes up (htmx reports XHR progress).
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest ? event.target.closest("[data-upload-form]") : null;
  const bar = form && form.querySelector("[data-upload-progress]");
  if (!bar || !event.detail.lengthComputable) return;
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
});

// A number as the page's language writes it: Persian digits and separator on Persian pages.
function localNumber(n) {
  const text = n.toLocaleString("en-US");
  return document.documentElement.lang === "fa" ? text.replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]).replace(/,/g, "٬") : text;
}

// The phasing form: add a phase (a copy of the last row, renumbered) and show the running total.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("[data-phasing-form]");
  if (!form) return;
  const rows = form.querySelector("[data-phase-rows]");
  const totalInput = form.querySelector("input[name$='-TOTAL_FORMS']");
  const digits = { "۰": 0, "۱": 1, "۲": 2, "۳": 3, "۴": 4, "۵": 5, "۶": 6, "۷": 7, "۸": 8, "۹": 9,
    "٠": 0, "١": 1, "٢": 2, "٣": 3, "٤": 4, "٥": 5, "٦": 6, "٧": 7, "٨": 8, "٩": 9 };
  const toNumber = (text) => Number(String(text).replace(/[۰-۹٠-٩]/g, (d) => digits[d]).replace(/[^0-9.]/g, "")) || 0;
  const show = localNumber;
  const update = () => {
    let sum = 0;
    form.querySelectorAll("input[name$='-amount']").forEach((input) => { sum += toNumber(input.value); });
    form.querySelector("[data-phasing-total]").textContent = show(sum);
  };
  form.addEventListener("input", update);
  form.querySelector("[data-add-phase]").addEventListener("click", () => {
    const count = Number(totalInput.value);
    const last = rows.querySelector("[data-phase-row]:last-of-type");
    const copy = last.cloneNode(true);
    copy.querySelectorAll("input, textarea").forEach((field) => {
      field.name = field.name.replace(/-\d+-/, `-${count}-`);
      field.id = field.id.replace(/-\d+-/, `-${count}-`);
      field.value = "";
    });
    copy.querySelectorAll("label").forEach((label) => { label.htmlFor = label.htmlFor.replace(/-\d+-/, `-${count}-`); });
    copy.querySelectorAll(".field-errors").forEach((errors) => errors.remove());
    copy.querySelector("[data-phase-number]").textContent = show(count + 1);
    rows.appendChild(copy);
    totalInput.value = count + 1;
  });
  update();
});

// One click opens an action's form: a menu link (data-open) to a <details> opens it and moves focus into it;
// a page opened at such an address (#offer-12) opens it too.
function openDetails(hash) {
  const target = hash && hash.length > 1 ? document.getElementById(hash.slice(1)) : null;
  if (!target || target.tagName !== "DETAILS") return;
  target.open = true;
  const field = target.querySelector("input:not([type=hidden]), select, textarea, button[type=submit]");
  if (field) field.focus({ preventScroll: true });
  target.scrollIntoView({ block: "start" });
}
document.addEventListener("click", (event) => {
  const link = event.target.closest ? event.target.closest("a[data-open]") : null;
  if (!link) return;
  const menu = link.closest("details[data-dropdown]");
  if (menu) menu.removeAttribute("open");
  openDetails(link.getAttribute("href"));
});
document.addEventListener("DOMContentLoaded", () => openDetails(window.location.hash));

// Live updates (marketplace/live_stream.py). A signed-in page keeps one server-sent-events stream open: new
// messages (already rendered for this person), "seen", "typing" and the header's badges arrive as they happen, and
// the chat asks the server nothing while nobody speaks. When there is no stream (live updates off, no Redis, a proxy
// that cuts it, an old browser) or while it reconnects, an open thread polls every data-poll-seconds; a stream that
// opens again first asks once for what was said in between.
const live = { open: false, wasOpen: false, timer: null, typingSent: 0 };

function chatThread() {
  return document.querySelector(".thread[data-conversation]");
}

function pollThread() {
  const poller = document.querySelector(".thread[data-conversation] [data-chat-poller]");
  if (poller && window.htmx) window.htmx.trigger(poller, "chat-poll");
}

function startPolling() {
  const thread = chatThread();
  if (!thread || live.timer) return;
  live.timer = window.setInterval(pollThread, Number(thread.dataset.pollSeconds || 3) * 1000);
}

function stopPolling() {
  // Someone who is not a party (staff reading a dispute) gets nothing of this thread from their stream: they poll.
  const thread = chatThread();
  if (thread && !thread.dataset.readUrl) return;
  window.clearInterval(live.timer);
  live.timer = null;
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  } catch (error) {
    return "";
  }
}

function postQuietly(url) {
  fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } }).catch(() => {});
}

// The other side's messages on screen are read: tell the server (their pages then show "seen"); a hidden tab waits
// until it is looked at.
function markThreadRead(thread) {
  if (!thread.dataset.readUrl) return;
  if (document.visibilityState !== "visible") {
    thread.dataset.unreadWaiting = "1";
    return;
  }
  delete thread.dataset.unreadWaiting;
  postQuietly(thread.dataset.readUrl);
}

function setBadge(kind, count) {
  const link = document.querySelector(`[data-badge-for="${kind}"]`);
  if (!link) return;
  let badge = link.querySelector(".badge");
  if (!count) {
    if (badge) badge.remove();
    return;
  }
  if (!badge) {
    badge = document.createElement("span");
    badge.className = "badge";
    badge.dataset.testid = kind === "messages" ? "unread-total" : "unread-notifications";
    link.appendChild(badge);
  }
  badge.textContent = localNumber(count);
}

function liveEvent(source, name, handle) {
  source.addEventListener(name, (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    handle(data);
  });
}

function threadFor(data) {
  const thread = chatThread();
  return thread && Number(thread.dataset.conversation) === data.conversation ? thread : null;
}

document.addEventListener("DOMContentLoaded", () => {
  const address = document.querySelector('meta[name="live-events"]');
  if (!address || !window.EventSource) {
    startPolling();
    return;
  }
  const source = new EventSource(address.content);
  source.addEventListener("open", () => {
    live.open = true;
    stopPolling();
    if (live.wasOpen) pollThread();
    live.wasOpen = true;
  });
  source.addEventListener("error", () => {
    live.open = false;
    startPolling();
  });
  liveEvent(source, "counts", (data) => {
    setBadge("messages", data.messages);
    setBadge("notifications", data.notifications);
  });
  liveEvent(source, "message", (data) => {
    const thread = threadFor(data);
    if (!thread) return;
    const html = data.html[document.documentElement.lang] || Object.values(data.html)[0];
    thread.querySelector("[data-chat-poller]").insertAdjacentHTML("beforebegin", html);
    tidyThread(thread);
    const arrived = thread.querySelector(`[data-message-id="${data.id}"]`);
    if (arrived && !arrived.classList.contains("mine")) {
      const typing = document.querySelector("[data-typing]");
      if (typing) typing.hidden = true;
      markThreadRead(thread);
    }
  });
  liveEvent(source, "seen", (data) => {
    const thread = threadFor(data);
    if (!thread) return;
    thread.querySelectorAll(".message.mine[data-message-id]").forEach((message) => {
      const receipt = message.querySelector("[data-receipt]");
      if (receipt && Number(message.dataset.messageId) <= data.up_to) receipt.classList.add("seen");
    });
  });
  liveEvent(source, "typing", (data) => {
    const typing = threadFor(data) && document.querySelector("[data-typing]");
    if (!typing) return;
    typing.hidden = false;
    window.clearTimeout(live.typingTimer);
    live.typingTimer = window.setTimeout(() => { typing.hidden = true; }, data.seconds * 1000);
  });
});

document.addEventListener("visibilitychange", () => {
  const thread = chatThread();
  if (thread && thread.dataset.unreadWaiting && document.visibilityState === "visible") markThreadRead(thread);
});

// Typing in the chat tells the other side, at most once every few seconds, and only while the stream is open.
document.addEventListener("input", (event) => {
  const form = event.target.closest ? event.target.closest("form[data-chat-form]") : null;
  const thread = chatThread();
  if (!form || !thread || !thread.dataset.typingUrl || !live.open) return;
  const now = Date.now();
  if (now - live.typingSent < 2000) return;
  live.typingSent = now;
  postQuietly(thread.dataset.typingUrl);
});
