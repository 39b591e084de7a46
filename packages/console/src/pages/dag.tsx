/**
 * A job's DAG drawn with @xyflow/react: tasks in columns by depth (a task sits one column right of its
 * deepest predecessor), coloured by state, with instance progress and, while waiting, why.
 */
import type { WireTask } from '@shoal/core';
import {
  Background,
  Controls,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useMemo } from 'react';
import { go } from '../route.js';
import { Progress, StateBadge } from '../ui.js';

type TaskNodeData = { task: WireTask };

function TaskNode({ data }: NodeProps<Node<TaskNodeData>>) {
  const { task } = data;
  return (
    <div
      className={`dag-node state-${task.State.toLowerCase()}`}
      data-task={task.TaskName}
      data-state={task.State}
    >
      <Handle type="target" position={Position.Left} />
      <div className="dag-title">
        <strong>{task.TaskName}</strong> <StateBadge state={task.State} />
      </div>
      <Progress metrics={task.InstanceMetrics} />
      {task.PendingReason && <div className="dag-reason">{task.PendingReason.Message}</div>}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { task: TaskNode };

/** Column of each task: 0 for tasks without predecessors, else one past the deepest predecessor. */
export function depths(preds: Record<string, readonly string[]>): Map<string, number> {
  const depth = new Map<string, number>();
  const visit = (name: string, trail: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (trail.has(name)) return 0; // a cycle cannot be submitted; drawn flat rather than looping
    trail.add(name);
    const d = Math.max(-1, ...(preds[name] ?? []).map((p) => visit(p, trail))) + 1;
    trail.delete(name);
    depth.set(name, d);
    return d;
  };
  for (const name of Object.keys(preds)) visit(name, new Set());
  return depth;
}

export function layout(names: readonly string[], preds: Record<string, readonly string[]>) {
  const depth = depths(preds);
  const rows = new Map<number, number>();
  const position = new Map<string, { x: number; y: number }>();
  for (const name of names) {
    const d = depth.get(name) ?? 0;
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    position.set(name, { x: d * 280, y: row * 130 });
  }
  return position;
}

export function JobDag({ jobId, tasks }: { jobId: string; tasks: readonly WireTask[] }) {
  const { nodes, edges } = useMemo(() => {
    const preds = Object.fromEntries(tasks.map((t) => [t.TaskName, t.Dependencies]));
    const position = layout(
      tasks.map((t) => t.TaskName),
      preds,
    );
    const nodes: Node<TaskNodeData>[] = tasks.map((task) => ({
      id: task.TaskName,
      type: 'task',
      position: position.get(task.TaskName) ?? { x: 0, y: 0 },
      data: { task },
      draggable: false,
    }));
    const edges: Edge[] = tasks.flatMap((task) =>
      task.Dependencies.map((pred) => ({
        id: `${pred}->${task.TaskName}`,
        source: pred,
        target: task.TaskName,
        animated: task.State === 'Running',
        markerEnd: { type: MarkerType.ArrowClosed },
        className: 'dag-edge',
      })),
    );
    return { nodes, edges };
  }, [tasks]);
  return (
    <div className="dag" data-testid="dag">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        nodesConnectable={false}
        onNodeClick={(_, node) => go({ page: 'task', jobId, taskName: node.id })}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
