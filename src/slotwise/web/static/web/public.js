// The booking pages: the browser's time zone, and the page height for a framing site.
(function () {
  "use strict";

  // Without a zone in the address, ask again with the browser's own.
  function detectZone() {
    var form = document.querySelector("form[data-detect-zone]");
    if (!form || !window.Intl) return;
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    var field = form.querySelector("input[name=tz]");
    if (!zone || !field || field.value === zone) return;
    var url = new URL(window.location.href);
    if (url.searchParams.has("tz")) return;
    url.searchParams.set("tz", zone);
    window.location.replace(url.toString());
  }

  // Framed: tell the framing page how tall this one is (embed.js listens).
  function reportHeight() {
    if (window.parent === window) return;
    var height = Math.ceil(document.documentElement.scrollHeight);
    window.parent.postMessage({ slotwise: "height", height: height }, "*");
  }

  detectZone();
  if (window.parent !== window) {
    window.addEventListener("load", reportHeight);
    document.addEventListener("htmx:afterSettle", reportHeight);
    if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.body);
    reportHeight();
  }
})();
