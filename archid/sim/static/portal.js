// Client-side behaviour of the simulated XAF portal.
//
// It reproduces what makes automating the real portal hard: loading panels
// that cover the page for a while after load and after every action, menu
// items that only react to real pointer events, a main menu that pushes
// items into a "…" overflow menu when the window is narrow at load time,
// and server callbacks wrapped as /*DX*/(...).
(function () {
  "use strict";
  var cfg = window.SIM_CONFIG || {};
  var panel = document.getElementById("Vertical_LPV");

  function showLoading() {
    panel.style.display = "block";
  }
  function hideLoadingAfter(seconds) {
    window.setTimeout(function () {
      panel.style.display = "none";
    }, Math.round(seconds * 1000));
  }
  function pause() {
    var lo = cfg.loadingMin || 0.1;
    var hi = cfg.loadingMax || 0.5;
    return lo + Math.random() * (hi - lo);
  }

  // A click counts only when a trusted mousedown and mouseup reached the
  // same element first: element.click() from a script does not qualify.
  function onPointerClick(el, action) {
    var down = false;
    var up = false;
    el.addEventListener("mousedown", function (e) {
      if (e.isTrusted) {
        down = true;
        up = false;
      }
    });
    el.addEventListener("mouseup", function (e) {
      if (e.isTrusted && down) {
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

  function showError(text) {
    var box = document.getElementById("Vertical_ErrorInfo");
    document.getElementById("Vertical_ErrorInfo_Text").textContent = text;
    box.style.display = "block";
  }

  function callback(id, param, done) {
    showLoading();
    var body = "__CALLBACKID=" + encodeURIComponent(id) +
      "&__CALLBACKPARAM=" + encodeURIComponent(param || "");
    fetch(window.location.pathname, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    }).then(function (response) {
      if (response.redirected && /Login\.aspx/i.test(response.url)) {
        // The session ended: the portal just sends the browser to log in.
        window.location.href = response.url;
        return null;
      }
      return response.text().then(function (text) {
        var match = /^\/\*DX\*\/\(([\s\S]*)\)$/.exec(text);
        if (!response.ok || !match) {
          hideLoadingAfter(0);
          showError("Errore del server (" + response.status + ")");
          return null;
        }
        var reply = JSON.parse(match[1]);
        hideLoadingAfter(pause());
        if (reply.error) {
          showError(reply.error);
          return null;
        }
        done(reply);
        return null;
      });
    }).catch(function () {
      hideLoadingAfter(0);
      showError("Impossibile contattare il server");
    });
  }

  function reload() {
    window.location.reload();
  }

  // Main menu: items with a popup open it; the popup's items act.
  var menu = document.getElementById("Vertical_mainMenu_Menu");
  var items = menu ? Array.prototype.slice.call(menu.children) : [];

  function closePopups() {
    var popups = document.querySelectorAll(".dxm-popup");
    for (var i = 0; i < popups.length; i++) {
      popups[i].style.display = "none";
    }
  }

  function wireItem(li) {
    var popup = li.querySelector(":scope > .dxm-popup");
    if (popup) {
      onPointerClick(li.querySelector(":scope > a"), function () {
        var open = popup.style.display === "block";
        closePopups();
        // An item inside the overflow popup keeps that popup open.
        var parent = li.parentElement.closest(".dxm-popup");
        if (parent) {
          parent.style.display = "block";
        }
        popup.style.display = open ? "none" : "block";
      });
      var subs = popup.querySelectorAll(":scope > ul > li");
      for (var i = 0; i < subs.length; i++) {
        wireItem(subs[i]);
      }
      return;
    }
    var action = li.getAttribute("data-action");
    var anchor = li.querySelector(":scope > a");
    onPointerClick(anchor, function () {
      closePopups();
      if (action === "export") {
        callback("export", li.getAttribute("data-format"), function (reply) {
          window.location.href = reply.url;
        });
      } else {
        showLoading();
        hideLoadingAfter(pause());
      }
    });
  }

  // Narrow windows push the trailing items into "…" (decided at load only,
  // as the real menu does: resizing later does not bring them back).
  if (menu && window.innerWidth < (cfg.overflowWidth || 1280) && items.length > 3) {
    var overflow = document.createElement("li");
    overflow.id = "Vertical_mainMenu_Menu_DXI" + items.length + "_";
    overflow.className = "dxm-item dxm-overflow";
    overflow.innerHTML = '<a id="' + overflow.id + 'T" class="dxm-content" href="#">…</a>' +
      '<div class="dxm-popup"><ul class="dxm-sub"></ul></div>';
    var list = overflow.querySelector("ul");
    for (var k = 3; k < items.length; k++) {
      list.appendChild(items[k]);
    }
    menu.appendChild(overflow);
    items = items.slice(0, 3).concat([overflow]);
  }
  for (var n = 0; n < items.length; n++) {
    wireItem(items[n]);
  }

  // Orders: the saved "open orders only" filter combo.
  var combo = document.getElementById("Vertical_v1_SalesFilter_I");
  if (combo) {
    var drop = document.getElementById("Vertical_v1_SalesFilter_DDD");
    onPointerClick(combo, function () {
      drop.style.display = drop.style.display === "block" ? "none" : "block";
    });
    var choices = drop.querySelectorAll("td.dxeListBoxItem");
    for (var c = 0; c < choices.length; c++) {
      (function (td) {
        onPointerClick(td, function () {
          drop.style.display = "none";
          callback("orders_filter", td.getAttribute("data-value"), reload);
        });
      })(choices[c]);
    }
  }

  // Products: clear the saved filter.
  var clear = document.getElementById("Vertical_v1_FilterBar_Clear");
  if (clear) {
    onPointerClick(clear, function () {
      callback("clear_filter", "", reload);
    });
  }
  // The column chooser: switch hidden columns on one by one, or all at once.
  var chooser = document.getElementById("Vertical_v1_ColumnChooser");
  if (chooser) {
    var chooserPopup = document.getElementById("Vertical_v1_ColumnChooser_PW");
    onPointerClick(chooser, function () {
      chooserPopup.style.display = "block";
    });
    var columns = chooserPopup.querySelectorAll("li.dxgvCCItem");
    for (var h = 0; h < columns.length; h++) {
      (function (li) {
        onPointerClick(li, function () {
          chooserPopup.style.display = "none";
          callback("show_column", li.getAttribute("data-column"), reload);
        });
      })(columns[h]);
    }
    var showAll = document.getElementById("Vertical_v1_ColumnChooser_ShowAll");
    if (showAll) {
      onPointerClick(showAll, function () {
        chooserPopup.style.display = "none";
        callback("show_columns", "", reload);
      });
    }
  }

  var errorClose = document.getElementById("Vertical_ErrorInfo_Close");
  if (errorClose) {
    onPointerClick(errorClose, function () {
      document.getElementById("Vertical_ErrorInfo").style.display = "none";
    });
  }

  // The page itself is "loading" for a while after the document is ready.
  hideLoadingAfter(cfg.initialLoading || pause());
})();
