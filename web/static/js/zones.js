// Patrol zones (zones page and sector page): sends what is drawn with Leaflet.draw to the server (DESIGN.md section 6).
// draw:created -> POST /api/zones, draw:edited -> POST /api/zones/<id>, draw:deleted ->
// POST /api/zones/<id>/supprimer; JSON with the CSRF token of <meta name="csrf-token">.
// The server's French message is shown on the page; a refused new shape is removed.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("zones-config").textContent);
  var map = window[config.map];
  var group = window[config.group];
  var message = document.getElementById("zone-message");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  // Areas as the server writes them (geo.formats): decimal comma, one decimal.
  var HECTARES = new Intl.NumberFormat("fr-FR", {minimumFractionDigits: 1, maximumFractionDigits: 1});

  // The form is never submitted (Enter in a field would reload the page): its fields go with each zone.
  // Here rather than in an onsubmit attribute, which the Content-Security-Policy blocks.
  document.getElementById("zone-form").addEventListener("submit", function (event) { event.preventDefault(); });

  function show(text, ok) {
    message.textContent = text;
    message.className = "zone-message " + (ok ? "ok" : "refused");
    message.hidden = false;
  }

  function zoneUrl(template, id) {
    return template.replace(/\/0(\/|$)/, "/" + id + "$1");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          throw new Error(data.error || ("Le serveur a refusé la demande (" + response.status + ")."));
        }
        return data;
      });
    });
  }

  function formFields() {
    var form = document.getElementById("zone-form");
    var problems = Array.prototype.map.call(
      form.querySelectorAll('input[name="problem_ids"]:checked'), function (box) { return Number(box.value); });
    return {
      reason: form.elements.reason.value,
      valid_from: form.elements.valid_from.value || null,
      valid_to: form.elements.valid_to.value || null,
      time_slots: form.elements.time_slots.value,
      problem_ids: problems
    };
  }

  function zoneIdOf(layer) {
    if (layer.zoneId) { return layer.zoneId; }
    var match = /psq-zone-(\d+)/.exec((layer.options && layer.options.className) || "");
    return match ? Number(match[1]) : null;
  }

  function listEntry(zone) {
    var none = document.getElementById("zone-none");
    if (none) { none.remove(); }
    var item = document.getElementById("zone-" + zone.id) || document.createElement("li");
    item.id = "zone-" + zone.id;
    item.dataset.zoneId = zone.id;
    item.textContent = "";
    var title = document.createElement("strong");
    title.textContent = "Zone n° " + zone.id;
    item.appendChild(title);
    item.appendChild(document.createTextNode(" — " + zone.reason + " (" +
      HECTARES.format(zone.area_m2 / 10000) + "\u00a0ha" +
      (zone.time_slots_text ? " · " + zone.time_slots_text : "") + ")"));
    document.getElementById("zone-list").prepend(item);
  }

  function create(body, layer) {
    body.csp_id = config.csp_id;
    body.sector_code = config.sector_code;
    return post(config.create_url, body).then(function (zone) {
      if (layer) {
        layer.zoneId = zone.id;
        if (layer.getElement && layer.getElement()) {
          layer.getElement().classList.add("psq-zone", "psq-zone-" + zone.id);
        }
        // Its number on the map, as the saved zones have it (layers/zone_layers.py number_label).
        layer.bindTooltip("n° " + zone.id, {permanent: true, direction: "top", offset: [0, -12], className: "psq-map-label"});
      }
      listEntry(zone);
      show("Zone n° " + zone.id + " enregistrée (" + zone.area_m2.toLocaleString("fr-FR") + " m²).", true);
      return zone;
    });
  }

  map.on("draw:created", function (event) {
    var layer = event.layer;
    var body = formFields();
    body.geometry = layer.toGeoJSON().geometry;
    create(body, layer).catch(function (error) {
      group.removeLayer(layer);
      map.removeLayer(layer);
      show(error.message, false);
    });
  });

  map.on("draw:edited", function (event) {
    event.layers.eachLayer(function (layer) {
      var id = zoneIdOf(layer);
      if (!id) { return; }
      post(zoneUrl(config.zone_url, id), {geometry: layer.toGeoJSON().geometry}).then(function (zone) {
        listEntry(zone);
        show("Zone n° " + id + " modifiée.", true);
      }).catch(function (error) {
        show(error.message + " Rechargez la page pour retrouver la zone enregistrée.", false);
      });
    });
  });

  function removed(id) {
    var item = document.getElementById("zone-" + id);
    if (item) { item.remove(); }
    show("Zone n° " + id + " supprimée (conservée dans l'historique).", true);
  }

  map.on("draw:deleted", function (event) {
    event.layers.eachLayer(function (layer) {
      var id = zoneIdOf(layer);
      if (!id) { return; }
      post(zoneUrl(config.delete_url, id)).then(function () { removed(id); }).catch(function (error) {
        show(error.message + " Rechargez la page.", false);
      });
    });
  });

  function layerOf(id) {
    var found = null;
    group.eachLayer(function (layer) { if (zoneIdOf(layer) === id) { found = layer; } });
    return found;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    var id = Number(button.dataset.zoneId);
    if (button.classList.contains("zone-delete")) {
      // A zone is withdrawn at once for every patrol: ask first (it stays in the history).
      if (!window.confirm("Retirer la zone n° " + id + " ? Elle ne sera plus en vigueur (elle reste dans l'historique).")) {
        return;
      }
      post(zoneUrl(config.delete_url, id)).then(function () {
        var layer = layerOf(id);
        if (layer) { group.removeLayer(layer); }
        removed(id);
      }).catch(function (error) { show(error.message, false); });
    } else if (button.classList.contains("zone-apply")) {
      post(zoneUrl(config.zone_url, id), formFields()).then(function (zone) {
        listEntry(zone);
        show("Zone n° " + id + " mise à jour.", true);
      }).catch(function (error) { show(error.message, false); });
    } else if (button.classList.contains("zone-suggest")) {
      var suggestion = config.suggestions.filter(function (s) { return s.n === Number(button.dataset.n); })[0];
      var body = formFields();
      body.reason = body.reason.trim() || suggestion.label;
      body.geometry = suggestion.geometry;
      if (suggestion.category) { body.category = suggestion.category; }  // the zone follows its category
      create(body, null).then(function () { window.location.reload(); })
        .catch(function (error) { show(error.message, false); });
    }
  });
}());
