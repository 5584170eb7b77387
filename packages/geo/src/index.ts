export { GeoDatabase, packageDir as geoDatabaseDir } from "./database";
export { GeoDatabaseError, PlaceTableError, TableLineError } from "./errors";
export { boundsItsHost, placeHops, recheckPlaces } from "./hops";
export {
  checkPlace,
  discOf,
  distanceKm,
  EARTH_RADIUS_KM,
  FIBRE_KM_PER_MS,
  kmText,
  type MeasuringPop,
  msText,
  PLACE_SLACK_KM,
  type PlaceCheck,
  reachKm,
} from "./light";
export {
  createPlaceLookup,
  isPublicAddress,
  type PlaceDatabaseLike,
  type PlaceSources,
  type PlaceTableLike,
} from "./lookup";
export { type Place, type PlaceOf, placeLabel, placeName } from "./place";
export { loadPlaceTable, type PlaceEntry, PlaceTable, parsePlaceTable } from "./place-table";
