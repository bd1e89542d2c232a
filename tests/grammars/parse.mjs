// Parses LogQL and TraceQL with Grafana's own grammars (the ones its query editors use).
// Input on stdin: [{"language": "logql" | "traceql", "query": "..."}, ...]
// Output on stdout: for each query, the offsets where the grammar found an error ([] when none).
import { readFileSync } from "node:fs";
import { parser as logql } from "@grafana/lezer-logql";
import { parser as traceql } from "@grafana/lezer-traceql";

const parsers = { logql, traceql };
const queries = JSON.parse(readFileSync(0, "utf8"));
const errors = queries.map(({ language, query }) => {
  const found = [];
  parsers[language].parse(query).iterate({
    enter: (node) => {
      if (node.type.isError) found.push(node.from);
    },
  });
  return found;
});
process.stdout.write(JSON.stringify(errors));
