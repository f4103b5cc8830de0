export function run(_args: string[]): Promise<number> {
  return Promise.reject(new Error('dev-cluster: not implemented yet'));
}
