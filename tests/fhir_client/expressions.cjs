// Evaluates the result expressions of an exported Questionnaire with fhirpath.js, the
// FHIRPath engine inside LHC-Forms, the way an SDC form filler does: the result group's
// variables in order, then each result item's calculatedExpression where it is enabled.
// Input (file named by argv[2]): {questionnaire, responses: [QuestionnaireResponse]}.
// Output (stdout): [{linkId: [values]}], one object per response; codings as codes.
"use strict";
const fs = require("fs");
const fhirpath = require("fhirpath");
const r4 = require("fhirpath/fhir-context/r4");

const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const questionnaire = input.questionnaire;
const group = questionnaire.item.find((item) => item.linkId === "result");
const EXT_VARIABLE = "http://hl7.org/fhir/StructureDefinition/variable";
const EXT_CALCULATED =
  "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression";
const EXT_ENABLE_WHEN =
  "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression";

function walk(items, out) {
  for (const item of items || []) {
    out.push(item);
    walk(item.item, out);
  }
  return out;
}

function enabled(item, response, env) {
  const byExpression = (item.extension || []).find((e) => e.url === EXT_ENABLE_WHEN);
  if (byExpression) {
    return fhirpath.evaluate(response, byExpression.valueExpression.expression, env, r4)[0] === true;
  }
  if (!item.enableWhen) return true;
  const answers = walk(response.item, []);
  const results = item.enableWhen.map((rule) => {
    const found = answers.find((a) => a.linkId === rule.question);
    return (found?.answer || []).some(
      (a) => a.valueCoding?.code === rule.answerCoding.code &&
        a.valueCoding?.system === rule.answerCoding.system,
    );
  });
  return item.enableBehavior === "all" ? results.every(Boolean) : results.some(Boolean);
}

const compiled = {};
function run(expression, response, env) {
  compiled[expression] ||= fhirpath.compile(expression, r4);
  return compiled[expression](response, env);
}

const out = input.responses.map((response) => {
  const env = { resource: response, questionnaire };
  for (const ext of group.extension || []) {
    if (ext.url === EXT_VARIABLE) {
      env[ext.valueExpression.name] = run(ext.valueExpression.expression, response, env);
    }
  }
  const shown = {};
  for (const item of group.item) {
    const calc = item.extension.find((e) => e.url === EXT_CALCULATED);
    const values = enabled(item, response, env)
      ? run(calc.valueExpression.expression, response, env)
      : [];
    shown[item.linkId] = values.map((v) => (v && typeof v === "object" ? v.code : v));
  }
  return shown;
});
process.stdout.write(JSON.stringify(out));
