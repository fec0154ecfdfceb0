/** What running extensions show in the IDE (status bar items, panels, commands), as a store. */

export interface StatusItem {
  extension: string;
  id: string;
  text: string;
}

export interface ExtensionPanel {
  extension: string;
  id: string;
  title: string;
  text: string;
}

export interface ExtensionCommand {
  extension: string;
  id: string;
  title: string;
}

export interface RuntimeState {
  statusItems: StatusItem[];
  panels: ExtensionPanel[];
  commands: ExtensionCommand[];
  /** Why an extension was stopped (flood, hang, crash), by extension name. */
  stopped: Record<string, string>;
  /** Whether the marketplace panel is open. */
  panelOpen: boolean;
}

const EMPTY: RuntimeState = {
  statusItems: [],
  panels: [],
  commands: [],
  stopped: {},
  panelOpen: false,
};

let state: RuntimeState = EMPTY;
const listeners = new Set<() => void>();

/** The current state (a new object after every change). */
export function getState(): RuntimeState {
  return state;
}

/** Listen to changes; returns the unsubscribe function. */
export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Apply a change to the state and tell the listeners. */
export function update(change: (prev: RuntimeState) => RuntimeState): void {
  state = change(state);
  for (const listener of listeners) {
    listener();
  }
}

/** Open or close the marketplace panel. */
export function setPanelOpen(open: boolean): void {
  update((s) => ({ ...s, panelOpen: open }));
}

/** Remove everything an extension showed. */
export function clearExtension(name: string): void {
  update((s) => ({
    ...s,
    statusItems: s.statusItems.filter((i) => i.extension !== name),
    panels: s.panels.filter((p) => p.extension !== name),
    commands: s.commands.filter((c) => c.extension !== name),
  }));
}

/** Set (or add) one status bar item of an extension. */
export function setStatusItem(item: StatusItem): void {
  update((s) => {
    const others = s.statusItems.filter(
      (i) => !(i.extension === item.extension && i.id === item.id),
    );
    return { ...s, statusItems: [...others, item] };
  });
}

/** Set (or add) the text of one panel of an extension. */
export function setPanel(panel: ExtensionPanel): void {
  update((s) => {
    const others = s.panels.filter((p) => !(p.extension === panel.extension && p.id === panel.id));
    return { ...s, panels: [...others, panel] };
  });
}

/** Register a command of an extension. */
export function addCommand(command: ExtensionCommand): void {
  update((s) => {
    const others = s.commands.filter(
      (c) => !(c.extension === command.extension && c.id === command.id),
    );
    return { ...s, commands: [...others, command] };
  });
}

/** Record why an extension stopped (null: it runs again). */
export function setStopped(name: string, reason: string | null): void {
  update((s) => {
    const stopped = Object.fromEntries(Object.entries(s.stopped).filter(([k]) => k !== name));
    if (reason !== null) {
      stopped[name] = reason;
    }
    return { ...s, stopped };
  });
}

/** Forget everything (tests). */
export function resetStore(): void {
  state = EMPTY;
  for (const listener of listeners) {
    listener();
  }
}
