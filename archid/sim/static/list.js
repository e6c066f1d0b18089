// A list view of the simulated XAF portal: main menu (overflow, export,
// filter combos), the grid's client object, its customization dialog,
// loading panels and the DXX.axd notification poll.
//
// What makes automating the real portal hard is reproduced on purpose:
// loading panels for a while after load and during every callback, items
// and eyes that only obey real pointer events, a menu that moves items
// into an overflow item at load, a grid whose id changes per session and
// whose client object is only found by its methods.
(function () {
  "use strict";
  var cfg = window.SIM_CONFIG;
  var path = window.location.pathname;
  var busy = 0;
  var blank = !!cfg.blank;
  var gid = cfg.gridId;
  var state = cfg.state;
  var panels = [document.getElementById("Vertical_LPV")];
  if (gid) {
    panels.push(document.getElementById(gid + "_LP"));
  }

  // -- loading panels and InCallback -------------------------------------
  function begin() {
    busy += 1;
    for (var i = 0; i < panels.length; i++) {
      if (panels[i]) {
        panels[i].style.display = "block";
      }
    }
  }
  function end(linger) {
    window.setTimeout(function () {
      busy -= 1;
      if (busy <= 0) {
        busy = 0;
        for (var i = 0; i < panels.length; i++) {
          if (panels[i]) {
            panels[i].style.display = "none";
          }
        }
      }
    }, Math.round((linger === undefined ? cfg.linger : linger) * 1000));
  }
  function inCallback() {
    return busy > 0;
  }

  function banner(text) {
    var box = document.createElement("div");
    box.className = "xaf-banner";
    box.setAttribute("role", "alert");
    box.textContent = text;
    var content = document.querySelector(".content");
    content.parentNode.insertBefore(box, content);
  }

  // A callback of control `id`; the reply goes to `done`.
  function callback(id, param, done) {
    begin();
    SimDX.post(path, SimDX.encode({ __CALLBACKID: id, __CALLBACKPARAM: param }), function (reply) {
      end();
      if (reply.error) {
        banner(reply.error);
        return;
      }
      done(reply);
    }, function () {
      end(0);
      banner(cfg.english ? "The server cannot be reached" : "Impossibile contattare il server");
    });
  }

  // -- the main menu ---------------------------------------------------------
  var menu = document.getElementById("Vertical_mainMenu_Menu");
  var prefix = "Vertical_mainMenu_Menu_DXI";
  var items = Array.prototype.slice.call(menu.children);
  var overflowPopup = null;

  function closePopups() {
    var open = document.querySelectorAll(".dxm-popup, .dxpcDropDown_XafTheme, .dxgvHCM");
    for (var i = 0; i < open.length; i++) {
      open[i].style.display = "none";
    }
  }

  // Items move into the overflow at load only, as on the real menu:
  // widening the window later does not bring them back.
  var narrow = window.innerWidth < cfg.overflowWidth;
  var moved = [];
  for (var k = 0; k < items.length; k++) {
    if (cfg.menu.alwaysOverflow.indexOf(k) >= 0 || (narrow && k >= cfg.menu.keep)) {
      moved.push(items[k]);
    }
  }
  if (moved.length) {
    var ov = cfg.menu.overflowIndex;
    var overflow = document.createElement("li");
    overflow.id = prefix + ov + "_";
    overflow.className = "dxm-item dxm-overflow";
    overflow.innerHTML = '<a id="' + overflow.id + 'T" class="dxm-content" href="javascript:;" ' +
      'title="Show hidden items">Show hidden items</a>' +
      '<div id="Vertical_mainMenu_Menu_DXME' + ov + '_" class="dxm-popup"><ul></ul></div>';
    overflowPopup = overflow.querySelector(".dxm-popup");
    var list = overflow.querySelector("ul");
    for (var j = 0; j < moved.length; j++) {
      // DevExpress names sub-menu items after their parent: DXI8i0_, DXI8i1_…
      var li = moved[j];
      var anchor = li.querySelector(":scope > a");
      li.id = prefix + ov + "i" + j + "_";
      if (anchor) {
        anchor.id = li.id + "T";
      }
      list.appendChild(li);
    }
    menu.appendChild(overflow);
    SimDX.onPointerClick(overflow.querySelector(":scope > a"), function () {
      var open = overflowPopup.style.display === "block";
      closePopups();
      overflowPopup.style.display = open ? "none" : "block";
    });
  }

  function exportList() {
    closePopups();
    var form = document.getElementById("form1");
    form.elements.__EVENTTARGET.value = "Vertical$mainMenu$Menu";
    form.elements.__EVENTARGUMENT.value = cfg.actions.export;
    form.elements.__CLIENTLANGUAGE.value = navigator.language || "";
    // The browser posts the page's state and saves the answer as a download;
    // the page stays where it is.
    form.submit();
  }

  var actions = {
    "export": exportList,
    "getpdf": function () {
      closePopups();
      callback("Vertical_mainMenu", "GETPDF", function () {});
    },
    "reset": function () {
      closePopups();
      callback("Vertical_mainMenu", "RESET", function () {
        window.location.reload();
      });
    },
    "noop": function () {
      closePopups();
      begin();
      end();
    }
  };
  var plain = menu.querySelectorAll("li.dxm-item[data-action]");
  for (var p = 0; p < plain.length; p++) {
    (function (li) {
      var act = actions[li.getAttribute("data-action")];
      var a = li.querySelector(":scope > a");
      if (act && a) {
        SimDX.onPointerClick(a, act);
      }
    })(plain[p]);
  }

  // -- combos ------------------------------------------------------------------
  function combo(spec, command, afterSet) {
    var id = spec.id;
    var input = document.getElementById(id + "_I");
    var valueInput = document.getElementById(id + "_VI");
    var popup = document.getElementById(id + "_DDD_PW-1");
    var cells = document.querySelectorAll("#" + id + "_DDD_L td");
    var inCb = false;
    function show(item) {
      input.value = item.text;
      valueInput.value = item.value;
    }
    function choose(value, real) {
      inCb = true;
      if (real) {
        blank = false; // a real choice refreshes the cells too
      }
      callback(id, command + "|" + value + "|" + (blank ? "1" : "0"), function (reply) {
        inCb = false;
        if (reply.combo) {
          show(reply.combo);
        }
        if (reply.reload || (!real && afterSet === "reload")) {
          window.location.reload();
          return;
        }
        applyGrid(reply);
      });
    }
    function toggle() {
      var open = popup.style.display === "block";
      if (!popup.closest(".dxm-popup")) {
        closePopups();
      }
      popup.style.display = open ? "none" : "block";
    }
    SimDX.onPointerClick(input, toggle);
    SimDX.onPointerClick(document.getElementById(id + "_B-1"), toggle);
    for (var c = 0; c < cells.length; c++) {
      (function (td, item) {
        SimDX.onPointerClick(td, function () {
          popup.style.display = "none";
          closePopups();
          show(item);
          choose(item.value, true);
        });
      })(cells[c], spec.items[c]);
    }
    window[id] = {
      GetValue: function () { return valueInput.value; },
      GetText: function () { return input.value; },
      SetValue: function (value) { choose(String(value), false); },
      GetItemCount: function () { return spec.items.length; },
      InCallback: function () { return inCb || inCallback(); },
      ShowDropDown: function () { popup.style.display = "block"; },
      HideDropDown: function () { popup.style.display = "none"; }
    };
  }
  if (cfg.menu.combo) {
    combo(cfg.menu.combo, "FILTER", cfg.setValueReloads ? "reload" : "grid");
  }
  if (cfg.menu.viewCombo) {
    combo(cfg.menu.viewCombo, "VIEW", "reload");
  }

  // -- the grid ------------------------------------------------------------------
  function applyGrid(reply) {
    if (!gid || !reply.grid) {
      return;
    }
    document.getElementById(gid).innerHTML = reply.grid;
    state = reply.state;
    if (reply.dialog) {
      var old = document.getElementById(gid + "_DXCDWindow");
      old.outerHTML = reply.dialog;
      wireDialog();
    }
    wireGrid();
  }

  function gridCallback(command) {
    callback(gid, command + "|" + (blank ? "1" : "0"), applyGrid);
  }

  var sortClicks = {};
  function wireGrid() {
    var headers = document.querySelectorAll("#" + gid + " td.dxgvHeader_XafTheme");
    for (var h = 0; h < headers.length; h++) {
      (function (td) {
        SimDX.onPointerClick(td, function () {
          gridCallback("SORT|" + td.getAttribute("data-col"));
        });
        td.addEventListener("contextmenu", function (e) {
          e.preventDefault();
          if (e.isTrusted) {
            showHeaderMenu(e.pageX, e.pageY);
          }
        });
      })(headers[h]);
    }
    var pages = document.querySelectorAll("#" + gid + "_DXPagerBottom a[data-page]");
    for (var n = 0; n < pages.length; n++) {
      (function (a) {
        SimDX.onPointerClick(a, function () {
          var target = a.getAttribute("data-page");
          if (target === "next") {
            grid.NextPage();
          } else if (target === "prev") {
            grid.PrevPage();
          } else {
            grid.GotoPage(parseInt(target, 10));
          }
        });
      })(pages[n]);
    }
  }
  void sortClicks;

  var headerMenu = null;
  function showHeaderMenu(x, y) {
    if (!headerMenu) {
      headerMenu = document.createElement("div");
      headerMenu.id = gid + "_DXHCM";
      headerMenu.className = "dxgvHCM dxm-popup";
      headerMenu.innerHTML = '<ul><li id="' + gid + '_DXHCM_DXI0_" class="dxm-item">' +
        '<a id="' + gid + '_DXHCM_DXI0_T" class="dxm-content" href="javascript:;">' +
        "Show Customization Dialog</a></li></ul>";
      document.body.appendChild(headerMenu);
      SimDX.onPointerClick(headerMenu.querySelector("a"), function () {
        headerMenu.style.display = "none";
        openDialog();
      });
    }
    closePopups();
    headerMenu.style.left = x + "px";
    headerMenu.style.top = y + "px";
    headerMenu.style.display = "block";
  }

  // -- the customization dialog ----------------------------------------------------
  var realEyes = false;
  function dialogEl() {
    return document.getElementById(gid + "_DXCDWindow");
  }
  function showTab(k) {
    for (var t = 0; t < 4; t++) {
      var content = document.getElementById(gid + "_DXCDPageControl_C" + t);
      var tab = document.getElementById(gid + "_DXCDPageControl_T" + t);
      content.style.display = t === k ? "block" : "none";
      tab.className = "dxtc-tab" + (t === k ? " dxtc-activeTab" : "");
    }
  }
  function openDialog() {
    realEyes = false;
    showTab(0);
    dialogEl().style.display = "block";
  }
  function wireDialog() {
    var box = dialogEl();
    if (!box) {
      return;
    }
    realEyes = false;
    var apply = document.getElementById(gid + "_DXCDWindow_DXCBtn201");
    for (var t = 0; t < 4; t++) {
      (function (k) {
        SimDX.onPointerClick(document.getElementById(gid + "_DXCDPageControl_T" + k + "T"),
          function () { showTab(k); });
      })(t);
    }
    var eyes = box.querySelectorAll("span.dxgvCustDialogEye");
    for (var e = 0; e < eyes.length; e++) {
      (function (eye) {
        SimDX.onPointerClick(eye, function () {
          var shown = eye.className.indexOf("ColumnShow") >= 0;
          eye.className = "dxgvCustDialogEye " + (shown ?
            "dxgvCustDialogColumnHide_XafTheme" : "dxgvCustDialogColumnShow_XafTheme");
          realEyes = true;
          apply.className = "dxbButton_XafTheme";
          apply.setAttribute("aria-disabled", "false");
        });
      })(eyes[e]);
    }
    var groups = box.querySelectorAll(".dxgvCustDialogGroupHeader_XafTheme");
    for (var g = 0; g < groups.length; g++) {
      (function (header) {
        SimDX.onPointerClick(header, function () {
          var content = header.nextElementSibling;
          var open = content.style.display === "block";
          content.style.display = open ? "none" : "block";
          header.parentNode.className = header.parentNode.className.replace(" dxgvCollapsed", "") +
            (open ? " dxgvCollapsed" : "");
        });
      })(groups[g]);
    }
    SimDX.onPointerClick(apply, function () {
      if (!realEyes) {
        return;
      }
      var shown = [];
      var all = box.querySelectorAll("span.dxgvCustDialogEye");
      for (var i = 0; i < all.length; i++) {
        if (all[i].className.indexOf("ColumnShow") >= 0) {
          shown.push(all[i].parentNode.getAttribute("data-col"));
        }
      }
      box.style.display = "none";
      gridCallback("COLUMNS|" + shown.join(","));
    });
    SimDX.onPointerClick(document.getElementById(gid + "_DXCDWindow_DXCBtn0"), function () {
      box.style.display = "none";
    });
  }

  // -- the grid's client object ------------------------------------------------------
  var grid = null;
  if (gid) {
    grid = {
      GetColumn: function (i) {
        var c = state.columns[i];
        if (!c) {
          return null;
        }
        return { index: c.index, fieldName: c.fieldName, caption: c.caption,
          visible: c.visible, visibleIndex: c.visibleIndex };
      },
      GetColumnCount: function () { return state.columns.length; },
      GetColumnByField: function (name) {
        for (var i = 0; i < state.columns.length; i++) {
          if (state.columns[i].fieldName === name) {
            return grid.GetColumn(i);
          }
        }
        return null;
      },
      GetRowValues: function (visibleIndex, fieldNames, onValues) {
        var fields = String(fieldNames).split(";");
        function answer(values) {
          var decoded = values.map(SimDX.decode);
          onValues(decoded.length === 1 ? decoded[0] : decoded);
        }
        if (state.rowValues) {
          // products: answered from the page
          var row = state.rowValues[visibleIndex - state.firstIndex];
          window.setTimeout(function () {
            answer(fields.map(function (f) { return row ? row[f] : null; }));
          }, 0);
          return;
        }
        // the other lists: one server request per row
        callback(gid, "ROWVALUES|" + visibleIndex + "|" + fields.join(";"), function (reply) {
          answer(reply.values || fields.map(function () { return null; }));
        });
      },
      GetVisibleRowsOnPage: function () { return state.rowsOnPage; },
      GetTopVisibleIndex: function () { return state.firstIndex; },
      GetPageIndex: function () { return state.pageIndex; },
      GetPageCount: function () { return state.pageCount; },
      GotoPage: function (i) { gridCallback("PAGE|" + i); },
      NextPage: function () {
        if (state.pageIndex + 1 < state.pageCount) {
          gridCallback("PAGE|" + (state.pageIndex + 1));
        }
      },
      PrevPage: function () {
        if (state.pageIndex > 0) {
          gridCallback("PAGE|" + (state.pageIndex - 1));
        }
      },
      ClearFilter: function () { gridCallback("CLEARFILTER"); },
      ShowCustomizationDialog: function () { openDialog(); },
      HideCustomizationDialog: function () { dialogEl().style.display = "none"; },
      PerformCallback: function (arg) { gridCallback("PERFORM|" + String(arg).replace(/\|/g, "/")); },
      Refresh: function () { gridCallback("PERFORM|"); },
      InCallback: inCallback
    };
    if (cfg.sortBy) {
      // DevExpress's SortBy(column, sortOrder, reset): a column object, its
      // index or its fieldName; "ASC", "DSC" or "NONE". This grid keeps one
      // sorted column, so reset changes nothing.
      grid.SortBy = function (column, sortOrder) {
        var index = -1;
        if (typeof column === "number") {
          index = column;
        } else if (typeof column === "string") {
          for (var i = 0; i < state.columns.length; i++) {
            if (state.columns[i].fieldName === column) {
              index = i;
            }
          }
        } else if (column && typeof column.index === "number") {
          index = column.index;
        }
        var order = String(sortOrder === undefined ? "ASC" : sortOrder).toUpperCase();
        gridCallback("SORTBY|" + index + "/" + order);
      };
    }
    window[gid] = grid;
    wireGrid();
    wireDialog();
  }

  // The pager's page size box: DevExpress reads it when it loses focus.
  window.ASPx = window.ASPx || {};
  window.ASPx.POnPageSizeBlur = function (pagerId, evt) {
    void evt;
    if (!gid || pagerId !== gid + "_DXPagerBottom") {
      return;
    }
    var box = document.getElementById(pagerId + "_PSI");
    var size = parseInt(box.value, 10);
    if (!isNaN(size) && size !== state.pageSize) {
      gridCallback("PSI|" + size);
    }
  };

  document.addEventListener("click", function (e) {
    if (headerMenu && !headerMenu.contains(e.target)) {
      headerMenu.style.display = "none";
    }
  });

  // -- notifications poll ------------------------------------------------------------
  window.setInterval(function () {
    begin();
    fetch(cfg.pollUrl, { credentials: "same-origin" }).then(function () {
      end();
    }, function () {
      end(0);
    });
  }, Math.round(cfg.pollInterval * 1000));

  // The page itself is "loading" for a while after the document is ready.
  begin();
  end(cfg.initialLoading);
})();
