// slotwise booking embed: <div data-slotwise-booking="https://SITE/book/ORG/"></div>
// becomes a framed booking page that grows with its content.
(function () {
  "use strict";
  var frames = [];

  function frameFor(box) {
    var address = box.getAttribute("data-slotwise-booking");
    var url;
    try {
      url = new URL(address, document.baseURI);
    } catch (error) {
      return;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return;
    url.searchParams.set("embed", "1");
    var frame = document.createElement("iframe");
    frame.src = url.toString();
    frame.title = box.getAttribute("data-title") || "Booking";
    frame.width = "100%";
    frame.height = "720";
    frame.setAttribute("loading", "lazy");
    frame.style.border = "0";
    frame.style.width = "100%";
    box.textContent = "";
    box.appendChild(frame);
    box.setAttribute("data-slotwise-ready", "1");
    frames.push({ frame: frame, origin: url.origin });
  }

  function build() {
    var boxes = document.querySelectorAll("div[data-slotwise-booking]:not([data-slotwise-ready])");
    for (var i = 0; i < boxes.length; i++) frameFor(boxes[i]);
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.slotwise !== "height" || typeof data.height !== "number") return;
    for (var i = 0; i < frames.length; i++) {
      var entry = frames[i];
      if (entry.frame.contentWindow === event.source && entry.origin === event.origin) {
        var height = Math.max(200, Math.min(Math.round(data.height), 20000));
        entry.frame.height = String(height);
        entry.frame.style.height = height + "px";
      }
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", build);
  } else {
    build();
  }
})();
