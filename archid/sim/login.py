"""The login page (spec v3 "Login page"): the XAF logon form and its callback.

Field names carry a number that changes per deployment (``<n>``, 7 or 8
digits, per start here). The button reacts only to real pointer clicks and
raises an XAF callback (``static/login.js``): a ``fetch`` POST of the form
with ``__CALLBACKID``; the reply (``/*DX*/(...)``) either names the page to
go to or carries the error text for ``#Logon_ErrorInfo``, which is always in
the page and empty until then.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from archid.sim.pages import BASE, hidden, page, script
from archid.sim.portal import Portal

#: ``__CALLBACKID`` of the logon callback
CALLBACK_ID = "Logon"
GREETING = "Benvenuto! Inserisci il tuo nome utente e password qui sotto."
WRONG_CREDENTIALS = "Accesso non riuscito: nome utente o password non validi."
INVALID_REQUEST = "La richiesta non è valida. Ricaricare la pagina e riprovare."


def field_names(portal: Portal) -> tuple[str, str]:
    """The user name and password inputs' names for this deployment."""
    prefix = f"Logon$v0_{portal.field_number}$MainLayoutEdit$xaf_l12"
    return f"{prefix}$xaf_l30$xaf_dviUserName_Edit", f"{prefix}$xaf_l35$xaf_dviPassword_Edit"


def login_page(portal: Portal, return_url: str) -> str:
    """The logon form for ``return_url``."""
    user_name, password_name = field_names(portal)
    english = portal.options.english_ui
    button = "Log In" if english else "Accedi"
    action = f"{BASE}Login.aspx?ReturnUrl={quote(return_url, safe='')}"
    body = f"""
<div class="header">Archibald</div>
<form name="form1" method="post" action="{escape(action)}" id="form1">
{hidden("__EVENTTARGET", "")}{hidden("__EVENTARGUMENT", "")}
{hidden("__VIEWSTATE", portal.viewstate)}{hidden("__VIEWSTATEGENERATOR", "CA0B0334")}
{hidden("__EVENTVALIDATION", portal.event_validation)}
{hidden(user_name.replace("_Edit", "_EditorClientInfo"), "")}
{hidden(password_name.replace("_Edit", "_EditorClientInfo"), "")}
<div class="login">
  <p class="greeting">{GREETING}</p>
  <div id="Logon_UPEI"><div id="Logon_ErrorInfo" class="ErrorInfo"></div></div>
  <label for="{escape(user_name.replace("$", "_"))}_I">NOME ACCOUNT</label>
  <input type="text" name="{escape(user_name)}" id="{escape(user_name.replace("$", "_"))}_I"
    autocomplete="off" />
  <label for="{escape(password_name.replace("$", "_"))}_I">PASSWORD</label>
  <input type="password" name="{escape(password_name)}"
    id="{escape(password_name.replace("$", "_"))}_I" />
  <div class="dxm-main" id="Logon_PopupActions_Menu"><ul class="dxm-horizontal">
    <li class="dxm-item" id="Logon_PopupActions_Menu_DXI0_">
      <a class="dxm-content" id="Logon_PopupActions_Menu_DXI0_T" href="javascript:;">{button}</a>
    </li></ul></div>
</div>
</form>
<div id="Logon_LP" class="dxlp dxgvLoadingPanel_XafTheme" style="display:none">…</div>
<script>{script("common.js")}</script>
<script>{script("login.js")}</script>"""
    return page("Log In", body)
