import type { SecuritySettings } from "./settings";
import type { SecurityStore } from "./store";

export interface SettingsAndStore {
  settings: SecuritySettings;
  store: SecurityStore;
}
