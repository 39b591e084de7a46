/**
 * The job designer: tasks on a canvas, connected by dragging from one task's right handle to another's
 * left (the second runs after the first), edited in the side panel, the JobDescription previewed as it
 * is built, then submitted.
 */
import {
  addEdge,
  Background,
  Controls,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  useEdgesState,
  useNodesState,
  type Connection,
  type Edge,
  type Node,
  type NodeProps,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useMemo, useState } from 'react';
import { jobDescription, newTask, type TaskDraft } from '../description.js';
import { useI18n } from '../i18n.js';
import { ErrorBox } from '../ui.js';
import { TaskFields } from './submit.js';

type DraftNode = Node<{ task: TaskDraft }>;

function DraftTaskNode({ data, selected }: NodeProps<DraftNode>) {
  return (
    <div className={`dag-node draft${selected ? ' selected' : ''}`} data-task={data.task.name}>
      <Handle type="target" position={Position.Left} />
      <strong>{data.task.name}</strong>
      <div className="muted">
        ×{data.task.instanceCount} · {data.task.commandLine}
      </div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { draft: DraftTaskNode };

export function Designer({ submit }: { submit: (d: unknown) => Promise<void> }) {
  const { t } = useI18n();
  const [name, setName] = useState('my-dag');
  const [nodes, setNodes, onNodesChange] = useNodesState<DraftNode>([]);
  const [edges, setEdges, onEdgesChange] = useEdgesState<Edge>([]);
  const [selectedId, setSelectedId] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const selected = nodes.find((n) => n.id === selectedId);

  const addTask = () => {
    let n = nodes.length + 1;
    while (nodes.some((node) => node.data.task.name === `task${n}`)) n++;
    const id = `n${Date.now()}${n}`;
    setNodes((all) => [
      ...all.map((node) => ({ ...node, selected: false })),
      {
        id,
        type: 'draft',
        position: { x: 40 + (all.length % 4) * 260, y: 40 + Math.floor(all.length / 4) * 140 },
        data: { task: newTask(`task${n}`) },
        selected: true,
      },
    ]);
    setSelectedId(id);
  };
  const update = (task: TaskDraft) =>
    setNodes((all) => all.map((node) => (node.id === selectedId ? { ...node, data: { task } } : node)));
  const remove = () => {
    setNodes((all) => all.filter((node) => node.id !== selectedId));
    setEdges((all) => all.filter((e) => e.source !== selectedId && e.target !== selectedId));
    setSelectedId(undefined);
  };
  const onConnect = (c: Connection) => {
    if (c.source === c.target) return;
    setEdges((all) =>
      addEdge(
        {
          ...c,
          id: `${c.source}->${c.target}`,
          markerEnd: { type: MarkerType.ArrowClosed },
          className: 'dag-edge',
        },
        all,
      ),
    );
  };

  const description = useMemo(() => {
    const byId = new Map(nodes.map((n) => [n.id, n.data.task.name]));
    return jobDescription(
      name,
      nodes.map((n) => n.data.task),
      edges.map((e) => [byId.get(e.source) ?? e.source, byId.get(e.target) ?? e.target] as [string, string]),
    );
  }, [name, nodes, edges]);

  return (
    <div className="designer">
      <div className="designer-main">
        <div className="tools">
          <label>
            {t('jobName')} <input value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="button" onClick={addTask}>
            + {t('addTask')}
          </button>
          <span className="muted">{t('dependsHint')}</span>
        </div>
        <div className="canvas" data-testid="designer-canvas">
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onNodeClick={(_, node) => setSelectedId(node.id)}
            onPaneClick={() => setSelectedId(undefined)}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
        <ErrorBox error={error} />
        <button
          type="button"
          className="primary"
          disabled={nodes.length === 0}
          onClick={() => {
            setError(undefined);
            submit(description).catch(setError);
          }}
        >
          {t('submitJob')}
        </button>
      </div>
      <aside className="panel">
        <h2>{t('editTask')}</h2>
        {selected ? (
          <div className="form" data-testid="task-panel">
            <label>
              {t('name')}
              <input
                value={selected.data.task.name}
                onChange={(e) => update({ ...selected.data.task, name: e.target.value })}
              />
            </label>
            <TaskFields task={selected.data.task} onChange={update} />
            <button type="button" className="danger" onClick={remove}>
              {t('removeTask')}
            </button>
          </div>
        ) : (
          <p className="muted">{t('selectTask')}</p>
        )}
        <h2>{t('preview')}</h2>
        <pre className="json" data-testid="preview">
          {JSON.stringify(description, null, 2)}
        </pre>
      </aside>
    </div>
  );
}
