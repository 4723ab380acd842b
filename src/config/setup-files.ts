// Where a setup writes (`qwen auth coding-plan`, the /auth wizard, /model), as Qwen Code does (compat §2,
// §3): the models and the choice go to the workspace settings when that file already defines
// modelProviders, since a higher scope's modelProviders replaces a lower one's whole and would hide
// anything written to the user file; else to the user settings. A key always goes to the user settings
// (mode 0600): a project's file may be committed.
import type { LoadedConfiguration } from './load.ts';
import { prepareSettingsFile, type SettingsEdit, writeSettingsFile } from './settings-writer.ts';

/** The file that holds the modelProviders in use here: the workspace's when it has them, else the user's. */
export function modelSettingsPath(configuration: LoadedConfiguration): string {
  const workspace = configuration.settings.files.find((file) => file.scope === 'workspace');
  if (workspace?.settings.modelProviders !== undefined) return workspace.path;
  return configuration.paths.userSettings;
}

export interface PlannedSettingsFile {
  path: string;
  edits: SettingsEdit[];
  /** Written with mode 0600. */
  holdsSecret: boolean;
}

export interface SetupEdits {
  userPath: string;
  /** modelSettingsPath: the user file or the workspace file. */
  modelPath: string;
  /** `env.<variable>` edits; empty when no key is stored. */
  keyEdits: SettingsEdit[];
  /** Provider entries, selected auth type, model choice. */
  modelEdits: SettingsEdit[];
}

/** The files to write: one when the models live in the user file, else the key there and the rest in the workspace. */
export function setupFiles(setup: SetupEdits): PlannedSettingsFile[] {
  const { userPath, modelPath, keyEdits, modelEdits } = setup;
  if (modelPath === userPath) {
    return [{ path: userPath, edits: [...keyEdits, ...modelEdits], holdsSecret: keyEdits.length > 0 }];
  }
  return [
    ...(keyEdits.length > 0 ? [{ path: userPath, edits: keyEdits, holdsSecret: true }] : []),
    { path: modelPath, edits: modelEdits, holdsSecret: false },
  ];
}

/** Writes every file, or none when one of them cannot be edited (each is prepared before any is written). */
export function writeSetupFiles(files: readonly PlannedSettingsFile[]): void {
  const prepared = files.map((file) =>
    prepareSettingsFile(file.path, file.edits, { holdsSecret: file.holdsSecret }),
  );
  for (const file of prepared) writeSettingsFile(file);
}
