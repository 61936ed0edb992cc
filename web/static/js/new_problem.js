// The "create a problem here" forms of the sector map's popups (layers/new_problem.py): each popup holds a
// marker (span.psq-new-problem with the place, the category if known and the head of the title); when the
// popup's content enters the page, the marker becomes the form, with the page's categories, the sector's URL
// and the page's CSRF token (the map is shared by every user of the view: it carries none).
(function () {
  var config = JSON.parse(document.getElementById("new-problem-config").textContent);
  var labels = {};
  config.categories.forEach(function (c) { labels[c[0]] = c[1]; });
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function field(form, tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    form.appendChild(el);
    return el;
  }

  function build(marker) {
    var form = document.createElement("form");
    form.className = "psq-new-problem-form";
    form.method = "post";
    form.action = config.url;
    var heading = document.createElement("strong");
    heading.textContent = "Nouveau problème à cet endroit";
    form.appendChild(heading);
    field(form, "input", {type: "hidden", name: "csrf_token", value: token});
    if (marker.dataset.cellule) field(form, "input", {type: "hidden", name: "cellule", value: marker.dataset.cellule});
    if (marker.dataset.enveloppe) field(form, "input", {type: "hidden", name: "enveloppe", value: marker.dataset.enveloppe});
    var known = marker.dataset.categorie;
    var title = marker.dataset.titre + (known && labels[known] ? " – " + labels[known] : "");
    field(form, "input", {name: "titre", value: title, maxlength: "200", required: "", "aria-label": "Titre du problème"});
    var select = field(form, "select", {name: "categorie", "aria-label": "Catégorie", required: ""});
    if (!known) select.appendChild(new Option("Choisissez la catégorie", "", true, true));
    config.categories.forEach(function (c) { select.appendChild(new Option(c[1], c[0], false, c[0] === known)); });
    var button = field(form, "button", {type: "submit"});
    button.textContent = "Créer un problème ici";
    marker.replaceWith(form);
  }

  new MutationObserver(function () {
    document.querySelectorAll("span.psq-new-problem").forEach(build);
  }).observe(document.body, {childList: true, subtree: true});
})();
