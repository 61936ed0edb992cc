// The "create a problem here" forms of the map popups (layers/new_problem.py) carry no CSRF token:
// the map is shared by every user of the view. Add this page's token when one is sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains("psq-new-problem")) return;
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta || form.querySelector('input[name="csrf_token"]')) return;
  var input = document.createElement("input");
  input.type = "hidden";
  input.name = "csrf_token";
  input.value = meta.getAttribute("content");
  form.appendChild(input);
}, true);
