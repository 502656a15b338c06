// The browser softphone: one RTCPeerConnection to the server for as long as the page is
// open (like a registered phone), so answering is instant.  Offers and calls come as the
// desktop's WebSocket frames, which desktop.js re-dispatches as "hotline:frame" events.
import { post } from "./live.js";

const $ = (id) => document.getElementById(id);
const texts = JSON.parse($("softphone-data").textContent);
const KEY = "hotline.softphone";
let pc = null;
let ringing = null;     // interaction id of the offer ringing in the browser
let statsTimer = null;
let ring = null;        // the ring tone's oscillator
let autoAnswer = false; // the session answers offers itself: nothing rings
let mic = null;         // the microphone track: sent only while a call is talked
// "listen" (the wallboard's silent monitor): receive only, never ask for a microphone
const listenOnly = $("softphone").dataset.mode === "listen";

function show(state) {
  $("softphone-state").textContent = texts.states[state] ?? state;
  $("softphone-state").dataset.state = state;
  $("softphone-toggle").textContent = pc ? texts.off : texts.on;
  showRinging();
}

function showRinging() {
  const on = pc !== null && pc.connectionState === "connected" && ringing !== null;
  $("softphone-ringing").hidden = !on;
  if (on && !ring) startRing();
  if (!on && ring) stopRing();
}

// A soft two-tone ring (440 + 480 Hz, the North American ringback pair) while offered.
let audioContext = null;
function startRing() {
  if (!audioContext) return;
  const gain = audioContext.createGain();
  gain.gain.value = 0.05;
  gain.connect(audioContext.destination);
  ring = [440, 480].map((hz) => {
    const o = audioContext.createOscillator();
    o.frequency.value = hz; o.connect(gain); o.start(); return o;
  });
}
function stopRing() { for (const o of ring) o.stop(); ring = null; }

function iceGathered(connection) {
  // no trickle ICE: the server (aiortc) answers one complete offer
  return new Promise((resolve) => {
    if (connection.iceGatheringState === "complete") return resolve();
    connection.addEventListener("icegatheringstatechange", () => {
      if (connection.iceGatheringState === "complete") resolve();
    });
  });
}

export async function start() {
  $("softphone-error").hidden = true;
  let stream = null;
  if (!listenOnly) {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true } });
    } catch (e) {
      $("softphone-error").textContent = `${texts.no_mic} (${e.name})`;
      $("softphone-error").hidden = false;
      return;
    }
    mic = stream.getAudioTracks()[0];
  }
  audioContext = audioContext ?? new AudioContext();
  pc = new RTCPeerConnection({ iceServers: [] });
  const transceiver = listenOnly
    ? pc.addTransceiver("audio", { direction: "recvonly" })
    : pc.addTransceiver(mic, { direction: "sendrecv", streams: [stream] });
  // G.711 first: the call is G.711 anyway, so the server relays it without transcoding
  const rank = (c) => ({ "audio/PCMU": 0, "audio/PCMA": 1, "audio/opus": 2 })[c.mimeType] ?? 3;
  const codecs = [...RTCRtpReceiver.getCapabilities("audio").codecs].sort((a, b) => rank(a) - rank(b));
  transceiver.setCodecPreferences(codecs);
  pc.ontrack = (e) => { $("softphone-audio").srcObject = e.streams[0] ?? new MediaStream([e.track]); };
  const mine = pc;
  pc.onconnectionstatechange = () => {
    if (pc !== mine) return;
    show(mine.connectionState);
    if (mine.connectionState === "failed" || mine.connectionState === "closed") stop(false);
  };
  show("new");
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    const auto = $("softphone-auto")?.checked ?? false;
    autoAnswer = auto;
    const answer = await post("/api/v1/softphone", {
      type: "offer", sdp: pc.localDescription.sdp, auto_answer: auto,
    });
    await pc.setRemoteDescription(answer);
    talking(false);  // nothing is sent between calls (the server sends nothing either)
  } catch (e) {
    $("softphone-error").textContent = e.message;
    $("softphone-error").hidden = false;
    stop(false);
    return;
  }
  localStorage.setItem(KEY, $("softphone-auto")?.checked ? "auto" : "on");
  statsTimer = setInterval(showStats, 1000);
}

export async function stop(tell = true) {
  const connection = pc;
  pc = null;
  clearInterval(statsTimer);
  if (connection) {
    for (const s of connection.getSenders()) if (s.track) s.track.stop();
    connection.close();
  }
  if (mic) { mic.stop(); mic = null; }
  if (tell) {
    localStorage.removeItem(KEY);
    await fetch("/api/v1/softphone", {
      method: "DELETE", credentials: "same-origin", headers: { "X-Requested-With": "fetch" },
    });
  }
  $("softphone-packets").textContent = "";
  show("off");
}

// Packets both ways as the browser counts them (also read by the end-to-end test).
export async function stats() {
  const out = { packetsReceived: 0, packetsSent: 0, audioEnergy: 0, codec: null };
  if (!pc) return out;
  const report = await pc.getStats();
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out.packetsReceived += s.packetsReceived ?? 0;
      out.audioEnergy += s.totalAudioEnergy ?? 0;
      if (s.codecId && report.get(s.codecId)) out.codec = report.get(s.codecId).mimeType;
    }
    if (s.type === "outbound-rtp" && s.kind === "audio") out.packetsSent += s.packetsSent ?? 0;
  });
  return out;
}

async function showStats() {
  const s = await stats();
  $("softphone-packets").textContent = texts.packets
    .replace("{in}", s.packetsReceived).replace("{out}", s.packetsSent);
}

async function act(fn) {
  try { await fn(); } catch (e) { $("softphone-error").textContent = e.message; $("softphone-error").hidden = false; }
}

$("softphone-toggle").onclick = () => act(() => (pc ? stop() : start()));
$("softphone-answer").onclick = () => act(async () => {
  const id = ringing;
  ringing = null; showRinging();
  await post(`/api/v1/calls/${id}/answer`);
});
$("softphone-decline").onclick = () => act(async () => {
  const id = ringing;
  ringing = null; showRinging();
  await post(`/api/v1/calls/${id}/decline`);
});

// The microphone goes out only while a call is talked or held (and the caller cannot
// hear it on hold anyway): no idle packets for the server to decrypt and drop.
function talking(on) {
  const sender = pc?.getSenders()[0];
  if (sender && !listenOnly) sender.replaceTrack(on ? mic : null);
}

document.addEventListener("hotline:frame", (e) => {
  const f = e.detail;
  if (f.type === "desktop.call") talking(f.data.phase === "talking" || f.data.phase === "held");
  if (f.type === "desktop.offer" && pc) {
    // "pick up your phone" is not what to do with the browser phone: after desktop.js
    // has shown the offer, hide that hint (the answer button is the way)
    queueMicrotask(() => { const hint = $("offer-hint"); if (hint) hint.hidden = true; });
  }
  if (f.type === "desktop.offer" && !autoAnswer) ringing = f.data.interaction_id;
  else if (f.type === "desktop.offer_cancelled" && f.data.interaction_id === ringing) ringing = null;
  else if (f.type === "desktop.call" && f.data.interaction_id === ringing) ringing = null;
  showRinging();
});

window.hotlineSoftphone = { start, stop, stats };
// the choice survives a reload (the microphone permission is the browser's to keep)
if (localStorage.getItem(KEY) === "auto" && $("softphone-auto")) $("softphone-auto").checked = true;
if (localStorage.getItem(KEY)) act(start);
// with auto answer the call is bridged at once: nothing rings, the desktop shows the call
$("softphone-auto")?.addEventListener("change", () => { if (pc) act(async () => { await stop(); await start(); }); });
