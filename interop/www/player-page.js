// A third-party page: loads <wisp-player> as a module from wisp (?wisp=ORIGIN&stream=NAME), puts
// one in the page, and records what it sees for the case (window.interop).
const q = new URLSearchParams(location.search);
const wisp = q.get("wisp");
const interop = { messages: [], phases: [], error: "" };
window.interop = interop;
try {
  await import(`${wisp}/player.js`);
  const player = document.createElement("wisp-player");
  player.setAttribute("src", `${wisp}/whep/${encodeURIComponent(q.get("stream"))}`);
  for (const a of ["autoplay", "muted", "controls"]) player.setAttribute(a, "");
  if (q.get("relay")) player.setAttribute("relay", ""); // TURN relays only
  player.addEventListener("message", (e) => interop.messages.push(typeof e.data === "string" ? e.data : `[binary ${e.data.byteLength}]`));
  player.addEventListener("phase", (e) => interop.phases.push(e.detail.phase));
  document.querySelector("#slot").append(player);
  interop.player = player;
  interop.stats = async () => {
    let framesDecoded = 0;
    let candidate = "";
    const pc = player.pc;
    if (pc) {
      const report = await pc.getStats();
      report.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") framesDecoded = r.framesDecoded || 0;
        if (r.type === "transport" && r.selectedCandidatePairId) {
          const local = report.get(report.get(r.selectedCandidatePairId)?.localCandidateId);
          if (local) candidate = `${local.candidateType}/${local.relayProtocol || local.protocol}`;
        }
      });
    }
    return { framesDecoded, candidate, videoWidth: player.videoWidth, phase: player.phase, reconnects: player.reconnects, pcs: interop.pcs.add(pc).size };
  };
  interop.pcs = new Set();
} catch (e) {
  interop.error = String(e);
}
