// Parses LogQL and TraceQL with Grafana's own grammars (the ones its query editors use), and
// PromQL with Prometheus's (the one its UI and Grafana's PromQL editor use).
// Input on stdin: [{"language": "logql" | "traceql" | "promql", "query": "..."}, ...]
// Output on stdout: for each query, {"errors": offsets where the grammar found an error ([] when
// none), "names": [[kind, name], ...] the labels and attributes it names}. Kinds: LogQL "stream"
// (a stream selector's label), "filter" (a label filter after the pipe: a parsed field, label or
// structured metadata), "grouping" (by/without); TraceQL "resource", "span", "unscoped"
// (an attribute of that scope), "span_name" (a string compared with the intrinsic `name`);
// PromQL "metric" (a selector's metric name), "label" (a label a selector matches on).
// "selectors": for each selector (a PromQL vector selector, a TraceQL spanset filter, a whole
// LogQL query: its stream selector and label filters), the [name, value] pairs it matches with
// equality, e.g. ["compose_project",
// "stage-3"] or ["resource.service.namespace", "stage-3"]: what the stage checks read.
import { readFileSync } from "node:fs";
import { parser as logql } from "@grafana/lezer-logql";
import { parser as traceql } from "@grafana/lezer-traceql";
import { parser as promql } from "@prometheus-io/lezer-promql";

const parsers = { logql, traceql, promql };

function within(node, ...types) {
  for (let up = node.parent; up; up = up.parent) {
    if (types.includes(up.type.name)) return up.type.name;
  }
  return null;
}

function logqlName(node, text) {
  if (node.type.name !== "Identifier") return null;
  const where = within(node, "Selector", "LabelFilter", "Grouping");
  const kind = { Selector: "stream", LabelFilter: "filter", Grouping: "grouping" }[where];
  return kind ? [kind, text] : null;
}

function traceqlName(node, text, query) {
  if (node.type.name === "AttributeField") {
    const scope = node.firstChild;
    const identifier = node.getChild("Identifier");
    const kind = { Resource: "resource", Span: "span" }[scope?.type.name] ?? "unscoped";
    return identifier ? [kind, query.slice(identifier.from, identifier.to)] : null;
  }
  // name = "GET /roll": the comparison is FieldExpression(IntrinsicField, FieldOp, Static).
  if (node.type.name === "IntrinsicField" && text === "name") {
    const op = node.parent?.nextSibling;
    const value = op?.nextSibling?.getChild("Static")?.getChild("String");
    if (op && query.slice(op.from, op.to) === "=" && value) {
      return ["span_name", JSON.parse(query.slice(value.from, value.to))];
    }
  }
  return null;
}

function promqlName(node, text) {
  if (node.type.name === "Identifier" && node.parent?.type.name === "VectorSelector") {
    return ["metric", text];
  }
  if (node.type.name === "LabelName" && within(node, "LabelMatchers")) return ["label", text];
  return null;
}

const namers = { logql: logqlName, traceql: traceqlName, promql: promqlName };

function unquote(literal) {
  return literal.startsWith('"') ? JSON.parse(literal) : literal.slice(1, -1);
}

function descendants(node, type) {
  const found = [];
  const cursor = node.cursor();
  const walk = () => {
    do {
      if (cursor.type.name === type) found.push(cursor.node);
      if (cursor.firstChild()) {
        walk();
        cursor.parent();
      }
    } while (cursor.nextSibling());
  };
  if (cursor.firstChild()) walk();
  return found;
}

// The node that is one selector, and the shape of an equality matcher in it: (matcher, name,
// op, value); TraceQL's is read in equalities().
const selectorType = { promql: "VectorSelector", logql: "LogQL", traceql: "SpansetFilter" };
const matcherShapes = {
  promql: ["UnquotedLabelMatcher", "LabelName", "MatchOp", "StringLiteral"],
  logql: ["Matcher", "Identifier", "Eq", "String"],
};

function equalities(language, node, query) {
  const text = (n) => query.slice(n.from, n.to);
  if (language === "traceql") {
    // FieldExpression(FieldExpression(AttributeField), FieldOp "=", FieldExpression(Static(String)))
    return descendants(node, "FieldOp")
      .filter((op) => text(op) === "=")
      .map((op) => [op.prevSibling?.getChild("AttributeField"), op.nextSibling?.getChild("Static")])
      .filter(([field, value]) => field && value?.getChild("String"))
      .map(([field, value]) => [text(field), unquote(text(value))]);
  }
  const [matcher, name, op, value] = matcherShapes[language];
  return descendants(node, matcher)
    .filter((m) => m.getChild(op) && text(m.getChild(op)) === "=")
    .map((m) => [text(m.getChild(name)), unquote(text(m.getChild(value)))]);
}


const queries = JSON.parse(readFileSync(0, "utf8"));
const results = queries.map(({ language, query }) => {
  const errors = [];
  const names = [];
  const selectors = [];
  parsers[language].parse(query).iterate({
    enter: (ref) => {
      if (ref.type.isError) errors.push(ref.from);
      const text = query.slice(ref.from, ref.to);
      const name = namers[language](ref.node, text, query);
      if (name) names.push(name);
      if (ref.type.name === selectorType[language]) {
        selectors.push(equalities(language, ref.node, query));
      }
    },
  });
  return { errors, names, selectors };
});
process.stdout.write(JSON.stringify(results));
