// A graph as GET /assistants/{id}/graph returns it, laid out by dagre and drawn as SVG.
// With xray, a subgraph's nodes come as "parent:child": they are drawn inside a box named
// after the parent (a dagre compound node), one box per level of nesting.

import dagre from "@dagrejs/dagre";
import { useMemo } from "preact/hooks";
import type { GraphEdge, GraphJson, GraphNode, Json } from "../api/types";

const FONT = "13px system-ui, -apple-system, 'Segoe UI', sans-serif";
const NODE_HEIGHT = 36;
const PADDING_X = 18;
const CLUSTER_PREFIX = "\u0000cluster:";

let canvas: HTMLCanvasElement | null = null;
function textWidth(text: string): number {
  canvas ??= document.createElement("canvas");
  const context = canvas.getContext("2d");
  if (!context) return text.length * 7.5;
  context.font = FONT;
  return context.measureText(text).width;
}

function labelOf(node: GraphNode): string {
  const name = node.data && typeof node.data === "object" && !Array.isArray(node.data) ? node.data.name : undefined;
  const full = typeof name === "string" ? name : node.id;
  return full.split(":").pop() ?? full;
}

function edgeLabel(edge: GraphEdge): string {
  return typeof edge.data === "string" ? edge.data : edge.data == null ? "" : JSON.stringify(edge.data as Json);
}

interface Box {
  id: string;
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Layout {
  left: number;
  width: number;
  height: number;
  nodes: (Box & { kind: "start" | "end" | "node"; node: GraphNode })[];
  clusters: Box[];
  edges: {
    points: { x: number; y: number }[];
    label: string;
    conditional: boolean;
    labelAt?: { x: number; y: number };
    source: string;
    target: string;
  }[];
}

export function layoutGraph(graph: GraphJson): Layout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 36, ranksep: 44, edgesep: 16, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(graph.nodes.map((n) => n.id));
  for (const node of graph.nodes) {
    const label = labelOf(node);
    g.setNode(node.id, { width: Math.max(64, textWidth(label) + 2 * PADDING_X), height: NODE_HEIGHT, label });
    const parts = node.id.split(":");
    let parent: string | undefined;
    for (let depth = 1; depth < parts.length; depth++) {
      const cluster = CLUSTER_PREFIX + parts.slice(0, depth).join(":");
      if (!g.hasNode(cluster)) g.setNode(cluster, { label: parts[depth - 1] });
      if (parent) g.setParent(cluster, parent);
      parent = cluster;
    }
    if (parent) g.setParent(node.id, parent);
  }
  graph.edges.forEach((edge, index) => {
    if (!known.has(edge.source) || !known.has(edge.target)) return;
    const label = edgeLabel(edge);
    g.setEdge(
      edge.source,
      edge.target,
      { label, width: label ? textWidth(label) + 8 : 0, height: label ? 18 : 0, labelpos: "c" },
      String(index),
    );
  });
  dagre.layout(g);
  const info = g.graph() as { width?: number; height?: number };
  const nodes: Layout["nodes"] = [];
  const clusters: Box[] = [];
  for (const id of g.nodes()) {
    const n = g.node(id) as { x: number; y: number; width: number; height: number; label: string };
    const box = { id, label: n.label, x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
    if (id.startsWith(CLUSTER_PREFIX)) clusters.push({ ...box, id: id.slice(CLUSTER_PREFIX.length) });
    else {
      const node = graph.nodes.find((candidate) => candidate.id === id)!;
      nodes.push({ ...box, node, kind: id === "__start__" ? "start" : id === "__end__" ? "end" : "node" });
    }
  }
  const edges: Layout["edges"] = g.edges().map((ref) => {
    const e = g.edge(ref) as { points: { x: number; y: number }[]; label: string; x?: number; y?: number };
    const original = graph.edges[Number(ref.name)];
    return {
      points: e.points,
      label: e.label,
      conditional: !!original?.conditional,
      labelAt: e.label && e.x !== undefined && e.y !== undefined ? { x: e.x, y: e.y } : undefined,
      source: ref.v,
      target: ref.w,
    };
  });
  // deepest clusters last, so a nested box is drawn over its parent
  clusters.sort((a, b) => a.id.split(":").length - b.id.split(":").length);
  // a box's name sits outside it, to its left, where no edge runs: widen the view to fit
  const left = Math.min(0, ...clusters.map((c) => c.x - textWidth(c.label) - 12));
  return { left, width: (info.width ?? 0) - left, height: info.height ?? 0, nodes, clusters, edges };
}

function path(points: { x: number; y: number }[]): string {
  if (points.length === 0) return "";
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
    d += ` Q${points[i].x},${points[i].y} ${mid.x},${mid.y}`;
  }
  const last = points[points.length - 1];
  return `${d} L${last.x},${last.y}`;
}

export function GraphView({ graph, title }: { graph: GraphJson; title: string }) {
  const layout = useMemo(() => layoutGraph(graph), [graph]);
  return (
    <div class="graph-view">
      <svg
        role="img"
        aria-label={title}
        viewBox={`${layout.left} 0 ${layout.width} ${layout.height}`}
        width={layout.width}
        height={layout.height}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
          </marker>
        </defs>
        {layout.clusters.map((c) => (
          <g class="cluster" data-cluster={c.id} key={c.id}>
            <rect x={c.x} y={c.y} width={c.width} height={c.height} rx={10} />
            <text x={c.x - 8} y={c.y + 16} text-anchor="end">
              {c.label}
            </text>
          </g>
        ))}
        {layout.edges.map((edge, i) => (
          <g
            class={edge.conditional ? "edge conditional" : "edge"}
            data-edge={`${edge.source}->${edge.target}`}
            key={i}
          >
            <path d={path(edge.points)} marker-end="url(#arrow)" />
            {edge.labelAt && (
              <text x={edge.labelAt.x} y={edge.labelAt.y + 4} text-anchor="middle" class="edge-label">
                {edge.label}
              </text>
            )}
          </g>
        ))}
        {layout.nodes.map((n) => (
          <g class={`node node-${n.kind}`} data-node={n.id} key={n.id}>
            <title>{n.id}</title>
            <rect x={n.x} y={n.y} width={n.width} height={n.height} rx={n.kind === "node" ? 8 : n.height / 2} />
            <text x={n.x + n.width / 2} y={n.y + n.height / 2 + 4.5} text-anchor="middle">
              {n.kind === "start" ? "start" : n.kind === "end" ? "end" : n.label}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}
