export { brokerContract } from './broker-contract';
export type { BrokerContractSettings, BrokerUnderTest } from './broker-under-test';
export type { ContractMatchers, ContractTestApi } from './test-api';
export { eventually, freshChannel, waitForCount } from './test-api';
