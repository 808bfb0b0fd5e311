// Passkeys need WebAuthn, which only a script can call: this one registers
// a passkey on /me/passkeys (the form #passkey-new), logs in with one alone
// on /login (the button #passkey-login), answers a login's second step
// with one on /login/second-factor (the button #passkey-second-factor) and
// confirms a login email change with one on /me/email (the form
// #email-change, whose field passkey it fills before the form is sent). It asks the server for the ceremony's
// options, hands them to the browser, and posts the browser's answer back,
// each as JSON; the server checks everything. Without this script the pages
// say that passkeys need JavaScript, and the rest of them works.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) {
    var unsupported = document.getElementById("passkey-unsupported");
    if (unsupported) {
      unsupported.hidden = false;
    }
    return;
  }

  // base64url <-> bytes: the server's options and the browser's answers
  // carry binary values as base64url text.
  function bytes(s) {
    var b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) {
      out[i] = b.charCodeAt(i);
    }
    return out.buffer;
  }
  function text(buf) {
    var b = new Uint8Array(buf);
    var s = "";
    for (var i = 0; i < b.length; i++) {
      s += String.fromCharCode(b[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (c) {
      return { type: c.type, id: bytes(c.id), transports: c.transports };
    });
  }

  // answer turns the browser's PublicKeyCredential into the JSON the server
  // reads.
  function answer(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: text(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: text(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = text(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = text(r.authenticatorData);
      out.response.signature = text(r.signature);
      if (r.userHandle) {
        out.response.userHandle = text(r.userHandle);
      }
    }
    return out;
  }

  // post sends JSON and resolves with the answer's status and JSON body.
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().then(function (data) {
        return { ok: res.ok, data: data };
      }, function () {
        return { ok: false, data: {} };
      });
    });
  }

  // show puts a problem in box (role=alert): its message, and each field's
  // own message beside the field of form.
  function show(box, form, problem) {
    box.textContent = "";
    var old = form ? form.querySelectorAll(".error.passkey-error") : [];
    for (var i = 0; i < old.length; i++) {
      old[i].parentNode.classList.remove("invalid");
      old[i].previousElementSibling.removeAttribute("aria-invalid");
      old[i].remove();
    }
    if (!problem) {
      return;
    }
    var div = document.createElement("div");
    div.className = "problems";
    div.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.textContent = problem.message;
    div.appendChild(p);
    box.appendChild(div);
    var first = null;
    Object.keys(problem.fields || {}).forEach(function (name) {
      var input = form && form.querySelector('[name="' + name + '"]');
      if (!input) {
        return;
      }
      var e = document.createElement("p");
      e.className = "error passkey-error";
      e.id = "e-" + name;
      e.textContent = problem.fields[name];
      input.parentNode.classList.add("invalid");
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " e-" + name).trim());
      input.parentNode.insertBefore(e, input.nextSibling);
      first = first || input;
    });
    if (first) {
      first.focus();
    }
  }

  // Registering a passkey.
  var form = document.getElementById("passkey-new");
  if (form) {
    var box = document.getElementById("passkey-problems");
    var busy = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (busy) {
        return;
      }
      busy = true;
      show(box, form, null);
      var begin = { name: form.elements.name.value };
      // The password, when the page asks for it: the session's login is
      // not recent enough to add a passkey without it.
      if (form.elements.password) {
        begin.password = form.elements.password.value;
      }
      post(form.dataset.options, begin).then(function (res) {
        if (!res.ok) {
          throw res.data;
        }
        var o = res.data.publicKey;
        o.challenge = bytes(o.challenge);
        o.user.id = bytes(o.user.id);
        o.excludeCredentials = descriptors(o.excludeCredentials);
        return navigator.credentials.create({ publicKey: o }).then(function (cred) {
          return post(form.dataset.finish, answer(cred));
        }, function () {
          throw { message: form.dataset.failed };
        });
      }).then(function (res) {
        if (!res.ok) {
          throw res.data;
        }
        window.location.assign(res.data.next);
      }).catch(function (problem) {
        busy = false;
        show(box, form, problem && problem.message ? problem : { message: form.dataset.failed });
      });
    });
  }

  // Confirming a login email change with a passkey: when the form is sent
  // (without a code, for a person who may give either), the device is
  // asked for one of the person's passkeys, and its answer goes with the
  // form in the field passkey; the server checks it with the rest.
  var change = document.getElementById("email-change");
  if (change && change.dataset.passkey) {
    var changeBox = document.getElementById("email-change-problem");
    var asking = false;
    change.addEventListener("submit", function (ev) {
      var code = change.elements.code;
      if (change.dataset.passkey === "optional" && code && code.value.trim() !== "") {
        return;
      }
      ev.preventDefault();
      if (asking) {
        return;
      }
      asking = true;
      show(changeBox, null, null);
      post(change.dataset.options, {}).then(function (res) {
        if (!res.ok) {
          throw res.data;
        }
        var o = res.data.publicKey;
        o.challenge = bytes(o.challenge);
        o.allowCredentials = descriptors(o.allowCredentials);
        return navigator.credentials.get({ publicKey: o }).then(function (cred) {
          change.elements.passkey.value = JSON.stringify(answer(cred));
          change.submit();
        }, function () {
          throw { message: change.dataset.failed };
        });
      }).catch(function (problem) {
        asking = false;
        show(changeBox, null, problem && problem.message ? problem : { message: change.dataset.failed });
      });
    });
  }

  // Logging in with a passkey: alone (the login page's #passkey-login), or
  // as the second step after the password (#passkey-second-factor). Each
  // button names its two steps and where to go next.
  ["passkey-login", "passkey-second-factor"].forEach(function (id) {
    var button = document.getElementById(id);
    if (!button) {
      return;
    }
    var status = document.getElementById(id + "-problem");
    button.hidden = false;
    button.addEventListener("click", function () {
      if (button.disabled) {
        return;
      }
      button.disabled = true;
      show(status, null, null);
      var next = button.dataset.next;
      var finish = button.dataset.finish + (next ? "?next=" + encodeURIComponent(next) : "");
      post(button.dataset.options, {}).then(function (res) {
        if (!res.ok) {
          throw res.data;
        }
        var o = res.data.publicKey;
        o.challenge = bytes(o.challenge);
        o.allowCredentials = descriptors(o.allowCredentials);
        return navigator.credentials.get({ publicKey: o }).then(function (cred) {
          return post(finish, answer(cred));
        }, function () {
          throw { message: button.dataset.failed };
        });
      }).then(function (res) {
        if (!res.ok) {
          throw res.data;
        }
        window.location.assign(res.data.next);
      }).catch(function (problem) {
        button.disabled = false;
        show(status, null, problem && problem.message ? problem : { message: button.dataset.failed });
      });
    });
  });
})();
