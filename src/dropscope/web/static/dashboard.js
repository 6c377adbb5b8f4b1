// dropscope dashboard: small progressive enhancements; every page works without this.
// The board's "Compare selected" button says how many projects are ticked, and asks for
// at least two before it submits.
(function () {
  "use strict";
  // Filters: leave empty fields out of the URL, so a shared link says only what is set.
  var filters = document.querySelector("form.filters");
  if (filters) {
    filters.addEventListener("submit", function () {
      Array.prototype.forEach.call(filters.elements, function (el) {
        if (el.name && el.value === "") { el.disabled = true; }
      });
    });
  }
  var form = document.getElementById("compare-form");
  if (!form) { return; }
  var hint = form.querySelector(".compare-hint");
  function ticked() {
    return document.querySelectorAll('input[type="checkbox"][name="slugs"][form="compare-form"]:checked');
  }
  function update() {
    var n = ticked().length;
    hint.textContent = n ? n + " selected" : "";
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "slugs") { update(); }
  });
  form.addEventListener("submit", function (event) {
    if (ticked().length < 2) {
      event.preventDefault();
      hint.textContent = "Tick at least two projects to compare.";
    }
  });
  update();
})();
