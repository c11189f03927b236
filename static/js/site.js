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
  // Close an open dropdown when clicking elsewhere or pressing Escape.
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details[data-dropdown][open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      document.querySelectorAll("details[data-dropdown][open]").forEach((menu) => menu.removeAttribute("open"));
    }
  });
});

// Chat: the id of the newest message shown in a thread (the poller asks for anything after it).
window.lastMessageId = (selector) => {
  const ids = Array.from(document.querySelectorAll(`${selector} [data-message-id]`), (el) => Number(el.dataset.messageId));
  return ids.length ? Math.max(...ids) : 0;
};

// A message that arrived twice (a poll racing a send) is shown once; new messages scroll into view.
document.addEventListener("htmx:afterSwap", (event) => {
  const thread = event.target.closest ? event.target.closest(".thread") : null;
  if (!thread) return;
  const seen = new Set();
  thread.querySelectorAll("[data-message-id]").forEach((el) => {
    if (seen.has(el.dataset.messageId)) el.remove();
    else seen.add(el.dataset.messageId);
  });
  thread.scrollTop = thread.scrollHeight;
});

// The workspace upload: a progress bar while the zip goes up (htmx reports XHR progress).
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest ? event.target.closest("[data-upload-form]") : null;
  const bar = form && form.querySelector("[data-upload-progress]");
  if (!bar || !event.detail.lengthComputable) return;
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
});
