/* revteam: the little the pages need beyond HTML and htmx. No inline scripts (see the CSP). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    // Phone menu: the nav collapses behind a button (without JavaScript it simply stays open).
    var toggle = document.querySelector(".menu-toggle");
    var nav = document.getElementById("mainnav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") === "true";
        toggle.setAttribute("aria-expanded", open ? "false" : "true");
        nav.classList.toggle("open", !open);
      });
    }

    // htmx requests carry the session's CSRF token as a header.
    var meta = document.querySelector('meta[name="csrf-token"]');
    document.body.addEventListener("htmx:configRequest", function (evt) {
      if (meta) evt.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    });

    // Tabs that scroll sideways on a phone: bring the current one into view.
    document.querySelectorAll(".tabs").forEach(function (tabs) {
      var active = tabs.querySelector("a.active");
      if (active && tabs.scrollWidth > tabs.clientWidth) {
        tabs.scrollLeft = active.offsetLeft - (tabs.clientWidth - active.offsetWidth) / 2;
      }
    });

    // Pickers that need no button: a change submits the form (the button stays for no-JavaScript use).
    document.body.addEventListener("change", function (evt) {
      var form = evt.target.closest && evt.target.closest("form[data-autosubmit]");
      if (form && evt.target.tagName === "SELECT") form.submit();
    });

    // Reject forms: the return date matters only for reasons that send the lead back to nurture.
    function syncRecycle(select) {
      var form = select.closest("form");
      var field = form && form.querySelector(".recycle-only");
      if (!field) return;
      var option = select.options[select.selectedIndex];
      var recycles = !!(option && option.getAttribute("data-recycles") === "true");
      field.classList.toggle("hidden", !recycles);
      var input = field.querySelector("input");
      if (input) input.required = recycles;
    }
    document.body.addEventListener("change", function (evt) {
      if (evt.target.matches && evt.target.matches("select[data-recycle-toggle]")) syncRecycle(evt.target);
    });

    // SLA clocks keep counting: "due in 35 min" becomes "overdue by 2 min" without a reload. The server's
    // clock (data-now) is the reference, so the text agrees with the page whatever the computer's clock says.
    function durationText(ms) {
      var minutes = Math.floor((Math.abs(ms) + 1000) / 60000);  // a second of slack: the page and the server agree
      if (minutes < 1) return "less than a minute";
      if (minutes < 60) return minutes + " min";
      var hours = Math.floor(minutes / 60), mins = minutes % 60;
      if (hours < 24) return hours + " h" + (mins && hours < 10 ? " " + mins + " min" : "");
      var days = Math.floor(hours / 24), rest = hours % 24;
      return days + " day" + (days !== 1 ? "s" : "") + (rest && days < 3 ? " " + rest + " h" : "");
    }
    function tick() {
      document.querySelectorAll("time.clock[data-due]").forEach(function (el) {
        if (!el.dataset.offset) el.dataset.offset = String(Date.parse(el.dataset.now) - Date.now());
        var now = Date.now() + Number(el.dataset.offset);
        var due = Date.parse(el.dataset.due);
        var risk = el.dataset.risk ? Date.parse(el.dataset.risk) : null;
        var state = now >= due ? "breached" : (risk !== null && now >= risk ? "at_risk" : "open");
        el.textContent = state === "breached" ? "overdue by " + durationText(now - due) : "due in " + durationText(due - now);
        ["open", "at_risk", "breached"].forEach(function (s) { el.classList.toggle("clock-" + s, s === state); });
        var card = el.closest(".lead-card");
        if (card) ["open", "at_risk", "breached"].forEach(function (s) { card.classList.toggle("clock-" + s, s === state); });
      });
    }

    function init(root) {
      root.querySelectorAll("select[data-recycle-toggle]").forEach(syncRecycle);
      tick();
    }
    init(document);
    document.body.addEventListener("htmx:load", function (evt) { init(evt.detail.elt.parentNode || document); });
    window.setInterval(tick, 30000);

    // Long form submissions (imports) show that they are working and cannot be sent twice.
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector('button[type="submit"]');
        if (button) {
          button.disabled = true;
          button.textContent = form.getAttribute("data-busy");
        }
      });
    });
  });
})();
