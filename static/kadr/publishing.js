/* Caption length against the channel's limit, as the press head edits it. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-limit]"), function (area) {
    var limit = parseInt(area.getAttribute("data-limit"), 10);
    var counter = document.createElement("span");
    counter.className = "help char-count";
    counter.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", counter);
    function update() {
      var n = area.value.length;
      counter.textContent = n + " / " + limit;
      counter.classList.toggle("over", n > limit);
    }
    area.addEventListener("input", update);
    update();
  });
})();
