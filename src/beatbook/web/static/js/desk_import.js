// The desk's import form (no inline script, CSP): files over the upload's limit are refused
// before they are sent (the server refuses them anyway), and the button says the import is
// running while the page waits for it.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) { return; }
  var input = form.querySelector("input[type=file]");
  var problem = document.getElementById("import-problem");
  var button = form.querySelector("button[type=submit]");
  var label = button.textContent;

  form.addEventListener("submit", function (event) {
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    var total = 0;
    for (var i = 0; i < input.files.length; i++) { total += input.files[i].size; }
    if (max && total > max) {
      event.preventDefault();
      problem.textContent = "The files chosen come to more than " +
        form.getAttribute("data-max-words") +
        ", the most one upload may hold: choose fewer files at a time.";
      problem.hidden = false;
      return;
    }
    problem.hidden = true;
    button.disabled = true;
    button.textContent = "Importing… keep this page open";
  });
  // Back to the page from the browser's history: the form is usable again.
  window.addEventListener("pageshow", function () {
    button.disabled = false;
    button.textContent = label;
  });
})();
