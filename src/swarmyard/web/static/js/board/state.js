// The cards the board knows, kept newest-version-wins: the board's snapshot,
// answers to our own moves and WebSocket messages arrive in any order, and a
// task's version only grows, so an older copy never overwrites a newer one.

export class BoardState {
  constructor() {
    this.tasks = new Map();
    this.agents = new Map(); // agent id -> {name, role}
  }

  /** Keep `task` unless a newer version is known; answers whether it was kept. */
  apply(task) {
    const known = this.tasks.get(task.id);
    if (known && known.version > task.version) return false;
    this.tasks.set(task.id, task);
    return true;
  }

  clear() {
    this.tasks.clear();
  }

  get(id) {
    return this.tasks.get(id);
  }

  setAgents(agents) {
    this.agents = new Map(agents.map((a) => [a.id, { name: a.name, role: a.role }]));
  }

  /** Who works on the card: the assigned agent, else the role asked for. */
  who(task) {
    if (task.assignee_agent_id) {
      const agent = this.agents.get(task.assignee_agent_id);
      return agent ? `${agent.name} (${agent.role})` : task.assignee_agent_id;
    }
    return task.required_role ? `role: ${task.required_role}` : "any role";
  }

  roleOf(task) {
    const agent = task.assignee_agent_id ? this.agents.get(task.assignee_agent_id) : null;
    return task.required_role || (agent ? agent.role : "");
  }

  matches(task, filters) {
    if (filters.project && task.project_id !== filters.project) return false;
    if (filters.type && task.type !== filters.type) return false;
    if (filters.role && this.roleOf(task) !== filters.role) return false;
    if (filters.q) {
      const needle = filters.q.toLowerCase();
      const hay = `${task.title}\n${task.description || ""}\n${task.id}`.toLowerCase();
      if (!hay.includes(needle)) return false;
    }
    return true;
  }
}
