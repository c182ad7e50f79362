// Optimizers and learning-rate schedules, as the public `optimizers` and `schedules` namespaces.
export * as optimizers from './optimizers.js';
export * as schedules from './schedules.js';
export { fromJSON as optimizerFromJSON, isOptimizer } from './optimizers.js';
export { fromJSON as scheduleFromJSON, isSchedule } from './schedules.js';
export type {
  Optimizer, OptimizerJSON, OptimizerKind, SgdOptions, AdamOptions, RmspropOptions, AdagradOptions,
  SgdConfig, AdamConfig, RmspropConfig, AdagradConfig,
} from './optimizers.js';
export type { Schedule, ScheduleJSON, ScheduleKind, ScheduleUnit, ScheduleTime, ScheduleRun, LrCurve, LrFindSettings } from './schedules.js';
