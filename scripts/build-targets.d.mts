/** Types of build-targets.mjs (plain JavaScript, so that `npm start` needs no devDependency). */
export interface BuildTarget {
  /** The file whose presence and age stand for the whole output, relative to the root. */
  output: string;
  /** Files and folders the output is built from, relative to the root. */
  sources: string[];
}
export declare const root: string;
export declare const targets: { server: BuildTarget; web: BuildTarget };
export declare const buildTools: string[];
export declare function isStale(target: BuildTarget): boolean;
export declare function isBuilt(target: BuildTarget): boolean;
export declare function hasBuildTools(): boolean;
