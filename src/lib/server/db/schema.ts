// Every table of the app. Split by concern; drizzle-kit reads this one entry point.
export * from './tables/accounts';
export * from './tables/ledger';
export * from './tables/kyc';
export * from './tables/safety';
export * from './tables/jobs';
export * from './tables/trust';
