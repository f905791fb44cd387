// envsubst for stack files, as faas-cli does by default: `${VAR}` and `${VAR:-default}`
// are replaced in the raw text before YAML parsing; an unset variable without a default becomes "".

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function substituteEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    return fallback ?? '';
  });
}
