/** japari's version (package.json "version"); replay tokens and reports record it. */
export const VERSION = '0.1.0';
