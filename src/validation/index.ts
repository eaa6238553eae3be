export { validateResource, warmValidation, warmValidationInSlices, isKnownResourceType, type ValidateOptions } from './validate';
export { VALIDATION_CODES, type ValidationCode } from './codes';
export { skippedInvariants, REPLACED_CONSTRAINTS } from './invariants';
