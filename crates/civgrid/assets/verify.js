// The certificate check page (/verify), served from the binary so the Content-Security-Policy
// can forbid inline scripts.
"use strict";

// On a self-service terminal (the kiosk=1 cookie): a way back, and back by itself after two minutes untouched.
if (/(^|;\s*)kiosk=1(;|$)/.test(document.cookie)) {
  document.getElementById("kiosk-home").hidden = false;
  let idle = null;
  const again = () => { clearTimeout(idle); idle = setTimeout(() => { location.href = "/kiosk"; }, 120000); };
  ["pointerdown", "keydown", "input"].forEach(e => document.addEventListener(e, again, { passive: true }));
  again();
}

const T = {
  zh: { title: "civgrid · 证书核验", intro: "上传证书凭证文件（.civgrid.json），或输入证书编号，即可核验签发部门签名、区块存证证明与多部门见证。全部在本平台完成，不访问外部网络。",
        fileLabel: "证书凭证文件", numberLabel: "证书编号", check: "核验", other: "English", valid: "✓ 证书真实有效", invalid: "✗ 核验未通过",
        type: "证书类型", number: "证书编号", subject: "持证人", id: "身份证号", issued: "签发时间", dept: "签发部门", valid_until: "有效期至",
        leaf: "存证位置", witnesses: "见证部门", none: "（无）", revoked: "撤销时间", reason: "撤销原因", chooseFile: "请先选择文件。",
        enterNumber: "请输入证书编号。", network: "无法连接平台，请稍后再试。", download: "下载凭证文件", code: "结果代码" },
  en: { title: "civgrid · verify a certificate", intro: "Upload a certificate bundle (.civgrid.json) or enter a certificate number to check the issuer's signature, the transparency-log proof and the witnesses. Everything runs on this platform; no outside network is used.",
        fileLabel: "Certificate bundle file", numberLabel: "Certificate number", check: "Verify", other: "中文", valid: "✓ Genuine certificate", invalid: "✗ Not valid",
        type: "Type", number: "Number", subject: "Holder", id: "ID number", issued: "Issued at", dept: "Issuing department", valid_until: "Valid until",
        leaf: "Log position", witnesses: "Witnessed by", none: "(none)", revoked: "Revoked at", reason: "Reason", chooseFile: "Choose a file first.",
        enterNumber: "Enter a certificate number.", network: "Cannot reach the platform; try again shortly.", download: "Download the bundle", code: "Result code" },
};
const E = JSON.parse(document.getElementById("errors").textContent);
// The same choice as every other page: the `lang` cookie that /lang/{zh,en} sets.
const langCookie = document.cookie.split(";").map(c => c.trim().split("=")).find(([k]) => k === "lang");
let lang = langCookie && langCookie[1] === "en" ? "en" : "zh";
let last = null;
const out = document.getElementById("out");
function t(k) { return T[lang][k]; }
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
function mask(id) { return typeof id === "string" && id.length === 18 ? id.slice(0, 6) + "********" + id.slice(14) : id; }

function render() {
  if (!last) return;
  out.hidden = false;
  out.replaceChildren();
  const r = last.result;
  if (!r) {
    // An answer's error in the reader's language by its code, else the server's words.
    const text = last.code ? (E[lang][last.code] || last.message) + " (" + last.code + ")" : last.error;
    out.append(el("p", text, "verdict bad"));
    return;
  }
  out.append(el("p", r.valid ? t("valid") : t("invalid"), "verdict " + (r.valid ? "ok" : "bad")));
  out.append(el("p", lang === "zh" ? r.message_zh : r.message_en));
  const dl = el("dl");
  const row = (k, v) => { if (v === undefined || v === null || v === "") return; dl.append(el("dt", t(k)), el("dd", String(v))); };
  const c = r.certificate;
  if (c) {
    row("type", c.type_name ? c.type_name[lang] : c.type);
    row("number", c.number);
    if (c.subject) { row("subject", c.subject.name); row("id", mask(c.subject.id_number)); }
    row("issued", c.issued_at); row("dept", c.issuing_department); row("valid_until", c.valid_until);
    for (const [k, v] of Object.entries(c.fields || {})) { dl.append(el("dt", k), el("dd", v)); }
  }
  if (r.leaf_index !== null && r.leaf_index !== undefined) row("leaf", "#" + r.leaf_index + " / " + r.tree_size);
  if (r.valid || r.code === "revoked") row("witnesses", (r.witness_departments || []).join("、") || t("none"));
  row("revoked", r.revoked_at); row("reason", r.revoke_reason);
  row("code", r.code);
  out.append(dl);
  // No download link here: a number proves nothing, so the bundle (with the holder's name and
  // ID number) goes only to the holder with their application's access key (the portal's
  // application page) or to the issuing department.
}

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  document.querySelectorAll("[data-i18n]").forEach(e => { e.textContent = t(e.dataset.i18n); });
  document.getElementById("lang").textContent = t("other");
  render();
}
document.getElementById("lang").onclick = () => { lang = lang === "zh" ? "en" : "zh"; document.cookie = `lang=${lang}; Path=/; Max-Age=31536000; SameSite=Lax`; applyLang(); };

async function show(resp, number) {
  const body = await resp.json().catch(() => null);
  // Rendering errors must not masquerade as network failures: only fetch() is in the try below.
  if (resp.ok && body) { last = { result: body, number }; }
  else {
    last = body && body.error ? { code: body.error.code, message: body.error.message } : { error: "HTTP " + resp.status };
  }
  render();
}

document.getElementById("byFile").onsubmit = async (ev) => {
  ev.preventDefault();
  const f = document.getElementById("file").files[0];
  if (!f) { last = { error: t("chooseFile") }; render(); return; }
  let resp;
  try { resp = await fetch("/api/v1/certificates/verify", { method: "POST", body: await f.arrayBuffer() }); }
  catch (_) { last = { error: t("network") }; render(); return; }
  await show(resp, null);
};
async function byNumber(n) {
  let resp;
  try { resp = await fetch("/api/v1/certificates/" + encodeURIComponent(n) + "/check"); }
  catch (_) { last = { error: t("network") }; render(); return; }
  await show(resp, n);
}
document.getElementById("byNumber").onsubmit = (ev) => {
  ev.preventDefault();
  const n = document.getElementById("number").value.trim().toUpperCase();
  if (!n) { last = { error: t("enterNumber") }; render(); return; }
  history.replaceState(null, "", "/verify/" + encodeURIComponent(n));
  byNumber(n);
};
applyLang();
const m = location.pathname.match(/^\/verify\/([^/]+)$/);
if (m) { const n = decodeURIComponent(m[1]); document.getElementById("number").value = n; byNumber(n); }
