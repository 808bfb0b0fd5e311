// Fills a new role's key from its name while the name is typed, as the
// server would derive it (team.RoleKey), until the key is edited by hand.
// Without this script the key may be left empty: the server derives it.
(function () {
  "use strict";
  var key = document.getElementById("f-key");
  var fr = document.getElementById("f-label_fr");
  var en = document.getElementById("f-label_en");
  if (!key || !fr || !en) {
    return;
  }
  var taken = {};
  (key.getAttribute("data-taken") || "").split(" ").forEach(function (k) {
    if (k) {
      taken[k] = true;
    }
  });
  var ligatures = { "œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th" };
  function slug(name) {
    var s = name.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
    s = s.replace(/[œæßøłđðþ]/g, function (c) { return ligatures[c]; });
    s = s.replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
    if (s && !/^[a-z]/.test(s)) {
      s = "role_" + s;
    }
    if (s.length > 36) {
      s = s.slice(0, 36).replace(/_+$/, "");
    }
    if (!s) {
      return "";
    }
    if (!taken[s]) {
      return s;
    }
    for (var i = 2; ; i++) {
      if (!taken[s + "_" + i]) {
        return s + "_" + i;
      }
    }
  }
  // The key follows the name while it is empty or still what the name gave.
  var derived = key.value === "" ? "" : null;
  function fill() {
    if (derived === null) {
      return;
    }
    derived = slug(fr.value.trim() || en.value.trim());
    key.value = derived;
  }
  key.addEventListener("input", function () {
    derived = key.value === "" ? "" : null;
  });
  fr.addEventListener("input", fill);
  en.addEventListener("input", fill);
})();
