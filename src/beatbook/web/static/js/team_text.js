/* The desk's editor of the team's text: a live preview beside the Markdown. The server
   renders it (/desk/updates/text/preview) with the function and sanitiser the letter uses,
   so what is shown here is what the letter will print; no inline script (CSP). */
(function () {
  "use strict";
  var form = document.getElementById("team-text-form");
  var preview = document.getElementById("team-preview");
  var problem = document.getElementById("team-preview-problem");
  if (!form || !preview || !window.fetch) { return; }
  var text = form.querySelector("textarea[name=text]");
  var url = form.getAttribute("data-preview-url");
  var timer = null;
  var asked = 0;

  function show(body, n) {
    if (n !== asked) { return; } // an older answer arriving late
    // body.html is the letter's sanitised HTML (nh3 on the server), shown as it will print.
    preview.innerHTML = body.html;
    problem.textContent = body.problem ? "Saving this would be refused: " + body.problem : "";
    problem.hidden = !body.problem;
    preview.setAttribute("data-shown", String(n));
  }

  function refresh() {
    asked += 1;
    var n = asked;
    var data = new FormData();
    ["csrf_token", "area"].forEach(function (k) { data.append(k, form.elements[k].value); });
    data.append("text", text.value);
    fetch(url, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) { show(body, n); })
      .catch(function () {
        show({ html: "", problem: "the preview could not be made (the text typed is kept)" }, n);
      });
  }

  text.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 300);
  });
  refresh();
}());
