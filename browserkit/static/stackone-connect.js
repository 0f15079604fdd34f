// StackOne Connect kit: an integrations page on top of this service, for pages with no build tooling.
// A dependency-free ES module. mountIntegrations(element, options) renders the owner's accounts and the providers
// they may connect, and drives StackOne's own <stackone-hub> web component (or an Auth Link pop-up).
export const VERSION = "1.3.0";
const HUB_VERSION = "1.11.4";
// StackOne's hub polls its session every 2 s for 5 minutes, then gives up: the page does the same for a minute,
// then backs off, and stops where the hub stops (a hub left open must not poll the service forever).
const POLL_MS = 2000;
const POLL_STOP_MS = 5 * 60 * 1000;

/** How long to wait before the next status poll, `elapsedMs` after the hub opened; null once it is time to stop. */
export function pollDelay(elapsedMs) {
  if (!(elapsedMs >= 0) || elapsedMs >= POLL_STOP_MS) return null;
  if (elapsedMs < 60 * 1000) return POLL_MS;
  return elapsedMs < 2 * 60 * 1000 ? 2 * POLL_MS : 4 * POLL_MS;
}

/** Calls `poll` (an async function answering true when done) as pollDelay says; returns a function that stops it. */
function pollUntil(poll) {
  const started = Date.now();
  let timer = null;
  let stopped = false;
  const next = () => {
    const wait = pollDelay(Date.now() - started);
    if (wait === null || stopped) return;
    timer = setTimeout(async () => { if (!stopped && !(await poll())) next(); }, wait);
  };
  next();
  return () => { stopped = true; clearTimeout(timer); };
}

/** A refused call: the problem's detail, its code and the request id to quote to support. */
export class ConnectError extends Error {
  constructor(problem, status, requestId) {
    super((problem && problem.detail) || `The service answered ${status}`);
    this.problem = problem || {};
    this.code = this.problem.code || "http_error";
    this.status = status;
    this.requestId = this.problem.requestId || requestId || "";
  }
}

/** The service's routes, called with the caller's login: a bearer token from the page, or the session cookie. */
export function connectClient({ serviceUrl = "", auth = "cookie" } = {}) {
  const base = serviceUrl.replace(/\/$/, "");
  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth !== "cookie") headers.Authorization = `Bearer ${await auth.bearer()}`;
    let response;
    try {
      response = await fetch(base + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        // The legacy session cookie only travels cross-origin with credentials; a bearer token needs none.
        credentials: auth === "cookie" ? "include" : "same-origin",
      });
    } catch (error) {
      throw new ConnectError({ detail: "The integrations service could not be reached." }, 0, "");
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ConnectError(data, response.status, response.headers.get("X-Request-ID"));
    return data;
  }
  return {
    providers: () => call("GET", "/stackone_providers").then((r) => r.data),
    accounts: () => call("GET", "/stackone_accounts").then((r) => r.data),
    session: (body) => call("POST", "/stackone_connect_sessions", body),
    status: (token) => call("POST", "/stackone_connect_sessions/status", { token }),
    // A session that will not be used: the service frees what it holds for it (StackOne's token lives on).
    release: (token) => call("POST", "/stackone_connect_sessions/release", { token }),
    authLink: (body) => call("POST", "/stackone_auth_links", body),
    // The links the owner sent (links of the customer's own, AUTH_LINK_BASE_URL): newest first.
    authLinks: () => call("GET", "/stackone_auth_links").then((r) => r.links),
    withdrawLink: (id) => call("DELETE", `/stackone_auth_links/${encodeURIComponent(id)}`),
    disconnect: (id) => call("DELETE", `/stackone_accounts/${encodeURIComponent(id)}`),
  };
}

const STYLE = `
.so-kit{font:15px/1.45 system-ui,sans-serif;color:#1c2331;max-width:760px}
.so-kit h2{font-size:1.1rem;margin:1.2rem 0 .5rem}
.so-kit ul{list-style:none;margin:0;padding:0}
.so-kit li{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;padding:.6rem .2rem;border-bottom:1px solid #e4e7ee}
.so-kit .so-name{flex:1 1 14rem}
.so-kit .so-state{font-size:.85rem;color:#5b6475}
.so-kit .so-broken{color:#b42318}
.so-kit .so-badge{font-size:.75rem;padding:0 .4rem;border-radius:4px;background:#fff4d6;color:#7a5200;border:1px solid #f0d48a}
.so-kit button:disabled{opacity:.55;cursor:default}
.so-kit button{font:inherit;padding:.3rem .75rem;border-radius:6px;border:1px solid #c5cad6;background:#fff;cursor:pointer}
.so-kit button.so-primary{background:#2b4acb;color:#fff;border-color:#2b4acb}
.so-kit button.so-danger{color:#b42318;border-color:#e7b6b0}
.so-kit [role=alert]{background:#fdecea;border:1px solid #f2b8b5;padding:.6rem .8rem;border-radius:6px;margin:.6rem 0}
.so-kit [role=status]{min-height:1.4em;color:#1f6f43;margin:.4rem 0}
.so-kit .so-link{background:#f3f5fa;border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}
.so-kit .so-link input{box-sizing:border-box;width:100%;font:inherit;padding:.3rem;margin:.3rem 0}
.so-kit .so-ended{color:#5b6475}
.so-dialog{border:none;border-radius:10px;padding:1rem 1.2rem;width:min(720px,94vw);box-shadow:0 8px 40px #0004}
.so-dialog stackone-hub{display:block;width:100%}
.so-dialog::backdrop{background:#0006}
.so-dialog menu{display:flex;gap:.5rem;justify-content:flex-end;padding:0;margin:1rem 0 0}
`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function loadHub(src) {
  if (customElements.get("stackone-hub")) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const script = el("script", { src, onload: () => resolve(), onerror: () => reject(new ConnectError(
      { detail: "StackOne's hub component could not be fetched (the server could not download it: see its "
        + "log). Send a link instead, or try again once it is there." }, 0, "")) });
    document.head.append(script);
  });
}

/** Render the integrations page into `root`; returns { refresh }. */
export function mountIntegrations(root, options = {}) {
  const client = connectClient(options);
  const base = (options.serviceUrl || "").replace(/\/$/, "");
  const hubScript = options.hubScriptUrl || `${base}/stackone_static/vendor/stackone-hub-${HUB_VERSION}.js`;
  const openWith = options.openWith || "hub";
  if (!document.getElementById("so-kit-style")) document.head.append(el("style", { id: "so-kit-style", text: STYLE }));

  const status = el("div", { role: "status", "aria-live": "polite" });
  const problems = el("div");
  const accountsList = el("ul", { "aria-label": "Connected accounts" });
  const providersList = el("ul", { "aria-label": "Available integrations" });
  const linkBox = el("div");
  const sentList = el("ul", { "aria-label": "Sent links" });
  // Shown once the service lists a link: a service whose links are StackOne's own keeps none to list.
  const sentBox = el("section", { "aria-labelledby": "so-sent-links", hidden: true },
    el("h2", { id: "so-sent-links", text: "Sent links" }), sentList);
  root.classList.add("so-kit");
  root.replaceChildren(
    status, problems,
    el("h2", { text: "Connected accounts" }), accountsList,
    el("h2", { text: "Add an integration" }), providersList, linkBox, sentBox,
  );
  let providers = [];

  const say = (text) => { status.textContent = text; };
  function fail(error) {
    const id = error.requestId ? ` (request id ${error.requestId})` : "";
    problems.replaceChildren(el("div", { role: "alert" },
      el("strong", { text: "Something went wrong: " }), `${error.message}${id}`));
  }
  const guarded = (action) => async (...args) => {
    problems.replaceChildren();
    try { await action(...args); } catch (error) {
      if (error instanceof ConnectError) fail(error); else fail(new ConnectError({ detail: String(error) }, 0, ""));
    }
  };
  const nameOf = (key) => (providers.find((p) => p.key === key) || { name: key }).name;
  const describe = (a) => `${a.providerName || nameOf(a.provider)}${a.label ? ` (${a.label})` : ""}`;
  // An account in the "which one?" chooser: its label, else who connected it and when (never a bare id).
  const candidateName = (c) => {
    const name = c.providerName || nameOf(c.provider || "");
    if (c.label) return `${name} (${c.label})`;
    const when = c.createdAt ? new Date(c.createdAt).toLocaleDateString() : "";
    if (!c.originUsername && !when) return `${name} account ${c.id}`;
    return `${name}, connected${c.originUsername ? ` by ${c.originUsername}` : ""}${when ? ` on ${when}` : ""}`;
  };

  function dialog(title, body, actions) {
    return new Promise((resolve) => {
      const box = el("dialog", { class: "so-dialog", "aria-label": title });
      const finish = (value) => { box.close(); box.remove(); resolve(value); };
      box.addEventListener("cancel", () => finish(null));
      box.append(el("h2", { text: title }), ...body,
        el("menu", {}, ...actions.map(([label, value, cls]) =>
          el("button", { type: "button", class: cls, onclick: () => finish(typeof value === "function" ? value() : value),
            text: label }))));
      document.body.append(box);
      box.showModal();
    });
  }

  // One session at a time: every button that opens one is disabled from the click until the page is done with it,
  // so a double click mints once and opens one hub.
  let opening = false;
  const setOpening = (value) => {
    opening = value;
    for (const button of root.querySelectorAll("button[data-opens-session]")) button.disabled = value;
  };
  const opener = (action) => guarded(async (...args) => {
    if (opening) return;
    setOpening(true);
    try { await action(...args); } finally { setOpening(false); }
  });
  const openButton = (attrs) => el("button", { type: "button", "data-opens-session": true, disabled: opening,
    ...attrs, onclick: opener(attrs.onclick) });

  async function refresh() {
    const [found, accounts, links] = await Promise.all([client.providers(), client.accounts(), sentLinks()]);
    providers = found; // before the sent links, which name their providers
    showSentLinks(links);
    const connected = new Set(accounts.map((a) => a.provider));
    accountsList.replaceChildren(...(accounts.length ? accounts.map(accountRow)
      : [el("li", { text: "No accounts connected yet." })]));
    providersList.replaceChildren(...providers.map((p) => el("li", {},
      el("span", { class: "so-name", text: `${p.name}${p.category ? ` · ${p.category.toUpperCase()}` : ""}` }),
      // Already connected: a plain Connect would be an update or a "which one?" question; adding one is what is new.
      connected.has(p.key)
        ? openButton({ "aria-label": `Add another ${p.name} account`, text: "Add another",
          onclick: () => addAnother(p.key) })
        : openButton({ class: "so-primary", "aria-label": `Connect ${p.name}`, text: "Connect",
          onclick: () => connect({ provider: p.key }) }),
      openButton({ "aria-label": `Send a link for ${p.name}`, text: "Send a link", onclick: () => sendLink(p) }))));
  }

  function accountRow(a) {
    const broken = a.needsReconnect;
    const reasons = (a.statusReasons || []).map((r) => r.description || r.code).filter(Boolean).join("; ");
    return el("li", { "data-account-id": a.id },
      el("span", { class: "so-name" }, el("strong", { text: describe(a) }), " ",
        // A test account (made by a test session, STACKONE_SESSION_TYPE=test) is not live data: say so.
        a.type === "test" ? el("span", { class: "so-badge", text: "Test", title: "A test account" }) : null,
        a.type === "test" ? " " : null,
        el("span", { class: `so-state${broken ? " so-broken" : ""}`,
          text: `${a.status || "unknown"}${reasons ? `: ${reasons}` : ""}` })),
      // Offered on every account (re-linking a healthy one is how its credentials are changed), first when broken.
      openButton({ class: broken ? "so-primary" : "", "aria-label": `Reconnect ${describe(a)}`,
        text: "Reconnect", onclick: () => connect({ accountId: a.id }, a.label) }),
      openButton({ "aria-label": `Add another ${a.providerName || nameOf(a.provider)} account`,
        text: "Add another", onclick: () => addAnother(a.provider) }),
      el("button", { type: "button", class: "so-danger", "aria-label": `Disconnect ${describe(a)}`,
        text: "Disconnect", onclick: guarded(() => disconnect(a)) }));
  }

  async function addAnother(provider) {
    const input = el("input", { "aria-label": "Label for the new account", placeholder: "e.g. EU office" });
    const label = await dialog(`Add another ${nameOf(provider)} account`,
      [el("p", { text: "A label tells your accounts apart." }), input],
      [["Cancel", null], ["Add another", () => input.value.trim() || null, "so-primary"]]);
    if (label) await connect({ provider, multiple: true, label });
  }

  // What the page says once the hub is done: what happened, in the words of what was asked.
  function doneMessage(session, label) {
    const name = session.provider ? nameOf(session.provider) : "an account";
    if (session.action === "update") return `Reconnected ${name}${label ? ` (${label})` : ""}.`;
    if (session.action === "multiple") return `Added another ${name} account${label ? ` (${label})` : ""}.`;
    return `Connected ${name}.`;
  }
  // `label`: the account's, when re-linking a labelled one (the request names it by id only).
  async function connect(body, label = body.label || null) {
    let session;
    try {
      session = await client.session(body);
    } catch (error) {
      if (!(error instanceof ConnectError) || error.code !== "ambiguous_account") throw error;
      const choice = await dialog(`Which ${nameOf(body.provider)} account?`,
        [el("p", { text: "Your organisation has several; pick the one to update, or add a new one." })],
        [...error.problem.candidates.map((c) => [`Update ${candidateName(c)}`,
          { body: { accountId: c.id }, label: c.label }]),
          ["Add another", { body: { provider: body.provider, multiple: true }, label: null }], ["Cancel", null]]);
      if (!choice) return;
      label = choice.label;
      session = await client.session(choice.body);
    }
    say(`Opening ${session.provider ? nameOf(session.provider) : "the integrations hub"}…`);
    const outcome = openWith === "popup" ? await viaPopup(session) : await viaHub(session);
    // Closed without success: the service may free what it holds for this session (a caps slot). Best effort, once.
    if (outcome !== "authenticated") client.release(session.token).catch(() => null);
    await refresh(); // before saying so: when the message shows, the list already shows the account
    if (outcome === "authenticated") say(doneMessage(session, label));
    else if (outcome) say(`The connection was not completed (${outcome}).`);
    else say("");
  }

  // Completion: the hub's success event when it fires, otherwise the service's status route, polled.
  async function viaHub(session) {
    await loadHub(hubScript);
    const hub = el("stackone-hub", { token: session.token, "base-url": session.hubBaseUrl,
      "app-url": session.hubAppUrl, mode: "integration-picker", height: "560px" });
    return new Promise((resolve) => {
      let done = false;
      const box = el("dialog", { class: "so-dialog", "aria-label": "Connect an account" });
      const finish = async (outcome) => {
        if (done) return;
        done = true;
        stopPolling();
        box.close(); box.remove();
        resolve(outcome || (await client.status(session.token).then((s) => s.status, () => null)));
      };
      const stopPolling = pollUntil(async () => {
        const s = await client.status(session.token).catch(() => null);
        if (s && s.status !== "pending") finish(s.status);
        return done;
      });
      hub.addEventListener("success", () => finish("authenticated"));
      hub.addEventListener("close", () => finish(null));
      box.addEventListener("cancel", () => finish(null));
      box.append(hub, el("menu", {}, el("button", { type: "button", text: "Close", onclick: () => finish(null) })));
      document.body.append(box);
      box.showModal();
    });
  }

  async function viaPopup(session) {
    const popup = window.open(session.authLinkUrl, "stackone-hub", "width=900,height=760");
    const opened = Date.now();
    for (let wait = pollDelay(0); wait !== null; wait = pollDelay(Date.now() - opened)) {
      await new Promise((r) => setTimeout(r, wait));
      const s = await client.status(session.token).catch(() => null);
      if (s && s.status !== "pending") { if (popup) popup.close(); return s.status; }
      if (!popup || popup.closed) return s ? s.status : null;
    }
    return null; // the hub has stopped too: the session is left to expire
  }

  async function disconnect(account) {
    const sure = await dialog(`Disconnect ${describe(account)}?`,
      [el("p", { text: "Data from this account stops flowing. You can connect it again later." })],
      [["Cancel", false], ["Disconnect", true, "so-danger"]]);
    if (!sure) return;
    await client.disconnect(account.id);
    await refresh();
    say(`Disconnected ${describe(account)}.`);
  }

  // The sent links, newest first; a service that lists none (or has no such route) leaves the section hidden.
  const sentLinks = () => client.authLinks().catch(() => []);
  function showSentLinks(links) {
    sentList.replaceChildren(...links.map(sentRow));
    sentBox.hidden = !links.length;
  }
  const refreshLinks = async () => showSentLinks(await sentLinks());

  const when = (iso) => el("time", { datetime: iso, text: new Date(iso).toLocaleString() });
  const STATUS_WORDS = { live: "Live", completed: "Completed", withdrawn: "Withdrawn", expired: "Expired" };
  const linkName = (link) => `${link.provider ? `${nameOf(link.provider)} link` : "Link"} for ${link.for || "anyone"}`
    + `${link.label ? ` (${link.label})` : ""}`;

  function sentRow(link) {
    const clicks = link.clicks === 1 ? "1 click" : `${link.clicks || 0} clicks`;
    const ended = link.status !== "live";
    return el("li", { "data-link-id": link.id },
      el("span", { class: "so-name" }, el("strong", { text: linkName(link) }), " ",
        el("span", { class: `so-state${ended ? " so-ended" : ""}` },
          `${STATUS_WORDS[link.status] || link.status} · sent `, when(link.createdAt),
          // A link someone sent for themselves names them once.
          link.by && link.by !== link.for ? ` by ${link.by}` : "",
          ` · ${ended ? "was valid" : "works"} until `, when(link.expiresAt),
          ` · ${clicks}`)),
      // Only a live link can be withdrawn; an ended one is listed to show how it ended.
      ended ? null : el("button", { type: "button", class: "so-danger", "aria-label": `Withdraw the ${linkName(link)}`,
        text: "Withdraw", onclick: guarded(() => withdraw(link)) }));
  }

  async function withdraw(link) {
    const sure = await dialog(`Withdraw the ${linkName(link)}?`,
      [el("p", { text: "It stops working at once: whoever opens it is told to ask you for a new one." })],
      [["Cancel", false], ["Withdraw", true, "so-danger"]]);
    if (!sure) return;
    try {
      await client.withdrawLink(link.id);
    } finally {
      await refreshLinks(); // also when it had ended meanwhile (409): the list then says how
      // Its button is gone with the old list: keep the keyboard's place on the link's new row.
      const row = sentList.querySelector(`li[data-link-id="${CSS.escape(link.id)}"]`);
      if (row) { row.tabIndex = -1; row.focus(); }
    }
    say(`Withdrew the ${linkName(link)}.`);
  }

  async function sendLink(provider) {
    const link = await client.authLink({ provider: provider.key });
    const until = new Date(link.expiresAt);
    const field = el("input", { readonly: true, value: link.url, "aria-label": `Link for ${provider.name}` });
    const copied = el("span", { role: "status" });
    // A link of the organisation's own (it has an id) opens nothing until clicked and can be withdrawn.
    const withdrawable = link.id ? "If it reaches the wrong person, withdraw it under Sent links. " : "";
    linkBox.replaceChildren(el("div", { class: "so-link" },
      el("strong", { text: `A link to connect ${provider.name}` }), field,
      el("div", {}, "Works until ", el("time", { datetime: link.expiresAt, text: until.toLocaleString() }),
        ". Anyone holding it can connect an account for your organisation: send it only to the right person. ",
        withdrawable),
      el("button", { type: "button", text: "Copy", "aria-label": "Copy the link", onclick: async () => {
        field.select();
        try { await navigator.clipboard.writeText(link.url); copied.textContent = "Copied."; }
        catch { document.execCommand("copy"); copied.textContent = "Copied."; }
      } }), " ", copied));
    if (link.id) await refreshLinks();
    // The link may land below the fold: bring it into view, put the focus on it, and say so.
    linkBox.scrollIntoView({ block: "center" });
    field.focus();
    field.select();
    say(`A link to connect ${provider.name} is ready; it works until ${until.toLocaleString()}.`);
  }

  guarded(refresh)();
  return { refresh: guarded(refresh), client };
}
