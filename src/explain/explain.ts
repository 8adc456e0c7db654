// `outpost explain externalworkload/NAME`: from the facts around one workload, the sections that
// answer "why is there no traffic?", in the order traffic needs them, and a one-line verdict. Pure.
import { effectiveWorkload } from '../core/workloads/effective.js';
import type { Explanation, ExplainFacts, Section } from './facts.js';
import { captureSection, policySection, servicesSection } from './traffic-sections.js';
import { certificateSection, enrolmentSection, healthSection } from './workload-sections.js';

export function explainWorkload(facts: ExplainFacts): Explanation {
  const w = effectiveWorkload(facts.workload, facts.group, facts.policy.trustDomain);
  const sections: Section[] = [
    enrolmentSection(facts, w),
    certificateSection(facts, w),
    healthSection(facts, w),
    servicesSection(facts, w),
    policySection(facts, w),
    captureSection(facts, w),
  ];
  const blocking = sections.find((s) => s.verdict === 'fail');
  return {
    workload: { namespace: w.namespace, name: w.name, group: w.group, identity: w.identity, serverName: w.serverName, addresses: w.ips, ports: w.ports, labels: w.labels },
    sections,
    reachable: !blocking,
    summary: blocking ? `no traffic: ${blocking.summary}` : 'traffic can reach it',
  };
}
