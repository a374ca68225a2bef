import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const SERVICES = fileURLToPath(new URL('../../docker/services.sh', import.meta.url));

async function clickhouseAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/ping`, { signal: AbortSignal.timeout(5000) });
    return res.ok && (await res.text()).trim() === 'Ok.';
  } catch {
    return false;
  }
}

function kafkaAnswers(brokers: string): Promise<boolean> {
  const [host, port] = brokers.split(',')[0]!.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port), timeout: 5000 }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

interface Service {
  name: 'clickhouse' | 'kafka';
  /** What services.sh prints (and users may preset) for the endpoint. */
  printed: string;
  /** What the tests read: Kafka's differs so that other suites do not switch to Kafka mode. */
  exported: string;
  answers: (endpoint: string) => Promise<boolean>;
  install: string;
}

const SERVICES_NEEDED: Service[] = [
  {
    name: 'clickhouse',
    printed: 'CLICKHOUSE_URL',
    exported: 'CLICKHOUSE_URL',
    answers: clickhouseAnswers,
    install:
      'Install it (apt-get install clickhouse-server clickhouse-client, as root) or point CLICKHOUSE_URL at a running server.',
  },
  {
    name: 'kafka',
    printed: 'KAFKA_BROKERS',
    exported: 'WEFT_TEST_KAFKA_BROKERS',
    answers: kafkaAnswers,
    install:
      'It needs Java 17 and Maven (apt-get install openjdk-17-jre-headless maven) to fetch Kafka from Maven Central, or point WEFT_TEST_KAFKA_BROKERS at a running broker.',
  },
];

async function bringUp(s: Service): Promise<void> {
  const preset = process.env[s.exported];
  if (preset) {
    if (await s.answers(preset)) return;
    throw new Error(`${s.exported}=${preset} does not answer; start that ${s.name} or unset ${s.exported}`);
  }
  let stdout: string;
  try {
    stdout = execFileSync(SERVICES, ['up', s.name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? '';
    throw new Error(
      `${s.name} for the tests could not be started with ${SERVICES} up ${s.name}: ${stderr || (err as Error).message}. ${s.install}`,
    );
  }
  const endpoint = new RegExp(`^${s.printed}=(.+)$`, 'm').exec(stdout)?.[1]?.trim();
  if (!endpoint || !(await s.answers(endpoint))) {
    throw new Error(
      `docker/services.sh reported no usable ${s.name} (output: ${stdout.trim()}); set ${s.exported}`,
    );
  }
  // Test workers are forked after global setup and inherit this.
  process.env[s.exported] = endpoint;
}

/**
 * The ClickHouse equality tests and the Kafka integration tests need real servers: use the
 * preset endpoints, else start them with docker/services.sh (idempotent; the first install
 * takes a minute or two). Never skip: when one cannot come up, the run fails saying what to do.
 */
export default async function setup(): Promise<void> {
  for (const s of SERVICES_NEEDED) await bringUp(s);
}
