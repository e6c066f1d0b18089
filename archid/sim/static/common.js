// Shared client behaviour of the simulated XAF portal: real pointer clicks
// and DevExpress-style callbacks whose replies are wrapped as /*DX*/(...).
window.SimDX = (function () {
  "use strict";

  // A click counts only when a trusted mousedown and mouseup reached the
  // element first and the click itself is trusted: element.click() or a
  // dispatched event from a script does not qualify (spec: clicks must be
  // real pointer events).
  function onPointerClick(el, action) {
    var down = false;
    var up = false;
    el.addEventListener("mousedown", function (e) {
      if (e.isTrusted && e.button === 0) {
        down = true;
        up = false;
      }
    });
    el.addEventListener("mouseup", function (e) {
      if (e.isTrusted && down && e.button === 0) {
        up = true;
      }
    });
    el.addEventListener("click", function (e) {
      e.preventDefault();
      e.stopPropagation();
      var real = e.isTrusted && down && up;
      down = false;
      up = false;
      if (real) {
        action(e);
      }
    });
  }

  // The object inside a /*DX*/(...) reply, or null when the reply is not one.
  function parse(text) {
    var match = /^\/\*DX\*\/\(([\s\S]*)\)$/.exec(text);
    if (!match) {
      return null;
    }
    try {
      return JSON.parse(match[1]);
    } catch (e) {
      return null;
    }
  }

  // POST a callback; `done(reply)` gets the unwrapped reply. A reply that is
  // not a callback reply (an error page) replaces the document, and a
  // redirect to the login page (an ended session) is followed.
  function post(url, body, done, failed) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    }).then(function (response) {
      if (response.redirected && /Login\.aspx/i.test(response.url)) {
        window.location.href = response.url;
        return null;
      }
      return response.text().then(function (text) {
        var reply = parse(text);
        if (reply === null) {
          document.open();
          document.write(text);
          document.close();
          return null;
        }
        done(reply);
        return null;
      });
    }).catch(function (err) {
      if (failed) {
        failed(err);
      }
    });
  }

  function encode(fields) {
    var parts = [];
    for (var name in fields) {
      if (Object.prototype.hasOwnProperty.call(fields, name)) {
        parts.push(encodeURIComponent(name) + "=" + encodeURIComponent(fields[name]));
      }
    }
    return parts.join("&");
  }

  // Dates travel as {"__date": ISO} and become JavaScript Dates here.
  function decode(value) {
    if (value && typeof value === "object" && typeof value.__date === "string") {
      var iso = value.__date;
      return iso.length === 10 ? new Date(iso + "T00:00:00") : new Date(iso);
    }
    return value;
  }

  return { onPointerClick: onPointerClick, parse: parse, post: post, encode: encode, decode: decode };
})();
