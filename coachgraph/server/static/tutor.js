"use strict";
// The tutor page: pick or resume a session, stream the tutor's words, answer, see mastery.
// The session lives on the server; the page keeps only the learner, the key and the session id
// (in the address, so a reload comes back to the same session).
const $ = (id) => document.getElementById(id);
const state = { learner: "", session: "", busy: false };

function headers() {
  const key = sessionStorage.getItem("coachgraph-key") || "";
  const h = { "Content-Type": "application/json" };
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

function showError(message) { $("error").textContent = message || ""; }

async function getJSON(url) {
  const response = await fetch(url, { headers: headers() });
  if (!response.ok) throw new Error(await describe(response));
  return response.json();
}

async function describe(response) {
  if (response.status === 401) return "The server needs the API key.";
  try {
    const body = await response.json();
    return (body.detail && (body.detail.message || JSON.stringify(body.detail))) || response.statusText;
  } catch (e) { return response.statusText; }
}

function addMessage(role, text) {
  const div = document.createElement("div");
  div.className = "message " + role;
  div.textContent = text;
  $("transcript").appendChild(div);
  $("transcript").scrollTop = $("transcript").scrollHeight;
  return div;
}

function render(view) {
  $("session-id").textContent = view.session_id;
  $("status").textContent = view.status === "ended" ? "(ended)" : "";
  $("transcript").textContent = "";
  for (const entry of view.transcript) addMessage(entry.role === "tutor" ? "tutor" : "learner", entry.text);
  $("plan").textContent = view.plan.reason || "";
  const body = $("mastery").querySelector("tbody");
  body.textContent = "";
  const skills = [...new Set([...(view.plan.order || []), ...view.targets])];
  for (const skill of skills) {
    const value = view.mastery[skill] || 0;
    const row = document.createElement("tr");
    row.dataset.skill = skill;
    if (view.mastered.includes(skill)) row.className = "mastered";
    const name = document.createElement("td"); name.textContent = skill;
    const number = document.createElement("td"); number.className = "value"; number.textContent = value.toFixed(2);
    const bar = document.createElement("td");
    const fill = document.createElement("span"); fill.className = "bar"; fill.style.width = Math.round(value * 100) + "px";
    bar.appendChild(fill);
    row.append(name, number, bar);
    body.appendChild(row);
  }
  $("reply").hidden = view.status === "ended";
  $("tutor").hidden = false;
  $("picker").hidden = true;
  $("transcript").dataset.turn = String(view.turn);
}

async function stream(url, payload) {
  state.busy = true;
  showError("");
  const live = addMessage("tutor", "");
  live.id = "streaming";
  try {
    const response = await fetch(url, { method: "POST", headers: headers(), body: JSON.stringify(payload) });
    if (!response.ok) throw new Error(await describe(response));
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        handle(buffer.slice(0, cut), live);
        buffer = buffer.slice(cut + 2);
      }
    }
  } catch (error) {
    showError(error.message);
    live.remove();
  } finally {
    state.busy = false;
  }
}

function handle(block, live) {
  const name = (block.match(/^event: (.*)$/m) || [])[1];
  const data = JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "null");
  if (name === "token") live.textContent += data.text;
  if (name === "view") { state.session = data.session_id; remember(); render(data); }
  if (name === "error") { showError(data.message); live.remove(); }
}

function remember() {
  location.hash = "learner=" + encodeURIComponent(state.learner) + "&session=" + encodeURIComponent(state.session);
}

async function listSessions() {
  const found = await getJSON("/v1/tutor/learners/" + encodeURIComponent(state.learner) + "/sessions");
  const list = $("sessions");
  list.textContent = "";
  for (const s of found.sessions) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "resume";
    button.dataset.session = s.session_id;
    button.textContent = "Resume " + s.session_id + " (" + (s.targets || []).join(", ") + ", " + s.status + ", " + (s.turns || 0) + " turns)";
    button.addEventListener("click", () => openSession(s.session_id));
    item.appendChild(button);
    list.appendChild(item);
  }
  $("picker").hidden = false;
  $("tutor").hidden = true;
}

async function openSession(session) {
  try {
    state.session = session;
    remember();
    render(await getJSON("/v1/tutor/sessions/" + encodeURIComponent(session)));
  } catch (error) { showError(error.message); }
}

function reply(text) {
  if (state.busy || !text) return;
  addMessage("learner", text);
  stream("/v1/tutor/sessions/" + encodeURIComponent(state.session) + "/reply", { text });
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  state.learner = $("learner").value.trim();
  sessionStorage.setItem("coachgraph-key", $("key").value);
  sessionStorage.setItem("coachgraph-learner", state.learner);
  try { await listSessions(); } catch (error) { showError(error.message); }
});
$("start").addEventListener("submit", (event) => {
  event.preventDefault();
  const targets = $("targets").value.split(",").map((t) => t.trim()).filter(Boolean);
  $("transcript").textContent = "";
  $("tutor").hidden = false;
  $("picker").hidden = true;
  stream("/v1/tutor/sessions", { learner: state.learner, targets });
});
$("reply").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("answer").value.trim();
  $("answer").value = "";
  reply(text);
});
$("hint").addEventListener("click", () => reply("hint"));
$("solution").addEventListener("click", () => reply("solution"));
$("end").addEventListener("click", () => reply("end"));

(function restore() {
  const params = new URLSearchParams(location.hash.slice(1));
  state.learner = params.get("learner") || sessionStorage.getItem("coachgraph-learner") || "";
  $("learner").value = state.learner;
  $("key").value = sessionStorage.getItem("coachgraph-key") || "";
  if (params.get("session")) openSession(params.get("session"));
})();
