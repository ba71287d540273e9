// Passkeys on the account pages (account.Config.Passkeys). The pages
// load this file from their own origin (Content-Security-Policy
// script-src 'self', no inline script) and it does the WebAuthn
// ceremonies: it asks the pages for options, hands them to the browser,
// and posts the browser's answer back as JSON. Fetches are same-origin,
// so they carry the session cookie and Sec-Fetch-Site: same-origin, which
// is what the pages' cross-origin checks let through.
//
// Each part of a page it drives is an element with data-passkey:
//   "login"    a passwordless login: a button; data-options, data-finish
//              and data-next are the options route, the login route, and
//              where to go once signed in.
//   "second"   the second step of a login: a form posting kind=passkey
//              and the response as the code to the second step; data-options.
//   "register" adding a passkey: a form with password and nickname;
//              data-options, data-finish, data-next.
// Such parts are hidden in the HTML and shown here only when the browser
// can do passkeys: without script the pages work as before, with
// passwords and codes.
"use strict";
(function () {
  var PKC = window.PublicKeyCredential;
  if (!PKC || typeof PKC.parseCreationOptionsFromJSON !== "function" ||
      typeof PKC.parseRequestOptionsFromJSON !== "function" || !navigator.credentials) {
    return;
  }

  var generic = "Something went wrong. Please try again.";

  // post sends body as JSON and returns the JSON answer, or throws an
  // Error with the answer's message.
  async function post(url, body) {
    var res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(body || {})
    });
    var type = res.headers.get("Content-Type") || "";
    if (res.redirected || type.indexOf("application/json") < 0 && type.indexOf("application/problem+json") < 0) {
      // A page of the session sends a browser whose session ended to
      // the login page: follow it.
      if (res.redirected) {
        window.location.assign(res.url);
      }
      throw new Error(generic);
    }
    var data = await res.json();
    if (!res.ok) {
      throw new Error((data && data.message) || generic);
    }
    return data;
  }

  function say(part, err) {
    var box = part.querySelector("[data-passkey-error]");
    if (!box) {
      return;
    }
    var msg = err && err.message ? err.message : generic;
    if (err && (err.name === "NotAllowedError" || err.name === "AbortError")) {
      msg = "The passkey was not used: the request was cancelled or timed out. Try again.";
    } else if (err && err.name === "InvalidStateError") {
      msg = "This device already holds a passkey for your account.";
    }
    box.textContent = msg;
    box.hidden = false;
  }

  function busy(part, on) {
    var buttons = part.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = on;
    }
  }

  async function login(part) {
    var options = await post(part.dataset.options, {});
    var cred = await navigator.credentials.get({publicKey: PKC.parseRequestOptionsFromJSON(options)});
    await post(part.dataset.finish, {response: cred.toJSON(), session: "cookie"});
    window.location.assign(part.dataset.next);
  }

  async function second(form) {
    var options = await post(form.dataset.options, {});
    var cred = await navigator.credentials.get({publicKey: PKC.parseRequestOptionsFromJSON(options)});
    form.elements.code.value = JSON.stringify(cred.toJSON());
    form.submit();
  }

  async function register(form) {
    var code = form.elements.code ? form.elements.code.value : "";
    var options = await post(form.dataset.options, {password: form.elements.password.value, code: code});
    var cred = await navigator.credentials.create({publicKey: PKC.parseCreationOptionsFromJSON(options)});
    await post(form.dataset.finish, {response: cred.toJSON(), nickname: form.elements.nickname.value});
    window.location.assign(form.dataset.next);
  }

  var run = {login: login, second: second, register: register};
  var parts = document.querySelectorAll("[data-passkey]");
  for (var i = 0; i < parts.length; i++) {
    (function (part) {
      var f = run[part.dataset.passkey];
      if (!f) {
        return;
      }
      part.hidden = false;
      var start = async function (ev) {
        ev.preventDefault();
        var box = part.querySelector("[data-passkey-error]");
        if (box) {
          box.hidden = true;
        }
        busy(part, true);
        try {
          await f(part);
        } catch (err) {
          say(part, err);
          busy(part, false);
        }
      };
      if (part.tagName === "FORM") {
        part.addEventListener("submit", start);
      } else {
        part.querySelector("button").addEventListener("click", start);
      }
    })(parts[i]);
  }
})();
