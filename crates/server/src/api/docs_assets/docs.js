// Renders /api/openapi.json as a plain reference page. Text only: every value from the spec is
// inserted with textContent, never as HTML.
"use strict";
(async function () {
  const content = document.getElementById("content");
  const toc = document.getElementById("toc");
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  };
  let spec;
  try {
    spec = await (await fetch("/api/openapi.json")).json();
  } catch (err) {
    content.textContent = "Could not load the OpenAPI document: " + err;
    return;
  }
  const resolve = (schema) => {
    if (schema && schema.$ref) return schema.$ref.split("/").pop();
    return schema;
  };
  const schemaText = (schema) => {
    const name = resolve(schema);
    if (typeof name === "string") {
      const s = spec.components && spec.components.schemas && spec.components.schemas[name];
      return name + " " + JSON.stringify(s || {}, null, 2);
    }
    return JSON.stringify(schema || {}, null, 2);
  };
  content.textContent = "";
  const list = el("ul");
  let n = 0;
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const id = "op-" + n++;
      list.append(el("li", {}, el("a", { href: "#" + id }, method.toUpperCase() + " " + path)));
      const sec = el("section", { class: "op", id });
      sec.append(el("h2", {}, el("span", { class: "method " + method }, method), el("code", {}, path)));
      if (op.summary) sec.append(el("p", {}, op.summary));
      if (op.description) sec.append(el("p", {}, op.description));
      if (op.security) sec.append(el("p", {}, "Requires: Authorization: Bearer <access token>"));
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) sec.append(el("h3", {}, "Request body"), el("pre", {}, schemaText(body.schema)));
      const rows = Object.entries(op.responses || {}).map(([status, r]) => {
        const c = r.content && (r.content["application/json"] || Object.values(r.content)[0]);
        return el("tr", {}, el("td", {}, status), el("td", {}, r.description || ""), el("td", {}, c && c.schema ? String(resolve(c.schema) && typeof resolve(c.schema) === "string" ? resolve(c.schema) : "") : ""));
      });
      sec.append(el("h3", {}, "Responses"), el("table", {}, el("tr", {}, el("th", {}, "Status"), el("th", {}, "Meaning"), el("th", {}, "Body")), ...rows));
      content.append(sec);
    }
  }
  toc.append(list);
})();
