// The logon button: a real click raises the XAF logon callback (a fetch
// POST of the form), never a plain postback. The reply names the page to
// go to, or carries the error text for #Logon_ErrorInfo.
(function () {
  "use strict";
  var button = document.getElementById("Logon_PopupActions_Menu_DXI0_T");
  var info = document.getElementById("Logon_ErrorInfo");
  var panel = document.getElementById("Logon_LP");
  var form = document.getElementById("form1");
  var busy = false;

  SimDX.onPointerClick(button, function () {
    if (busy) {
      return;
    }
    busy = true;
    info.textContent = "";
    panel.style.display = "block";
    var data = new URLSearchParams(new FormData(form));
    data.set("__CALLBACKID", "Logon");
    data.set("__CALLBACKPARAM", "c0:Logon$PopupActions$Menu");
    SimDX.post(form.action, data.toString(), function (reply) {
      if (reply.redirect) {
        window.location.href = reply.redirect;
        return;
      }
      busy = false;
      panel.style.display = "none";
      info.textContent = reply.error || "";
    }, function () {
      busy = false;
      panel.style.display = "none";
    });
  });
})();
