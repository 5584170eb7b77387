import type { PlaceSource } from "@lg/protocol";

/** Where an address is claimed to be, and who claims it. */
export interface Place {
  lat: number;
  lon: number;
  city?: string;
  /** ISO 3166-1 alpha-2 code. */
  country?: string;
  source: PlaceSource;
}

/** Finds the place of an address (loading what it needs on first use); undefined when nobody knows. */
export type PlaceOf = (address: string) => Promise<Place | undefined>;

/** "Sydney", else the country code, else the coordinates: how a place is named in words. */
export function placeName(place: Pick<Place, "lat" | "lon" | "city" | "country">): string {
  if (place.city) return place.city;
  if (place.country) return place.country;
  return `${place.lat.toFixed(2)}, ${place.lon.toFixed(2)}`;
}

/** "Sydney, AU", "AU" or the coordinates: a place with its country, for tables and hovers. */
export function placeLabel(place: Pick<Place, "lat" | "lon" | "city" | "country">): string {
  if (place.city && place.country) return `${place.city}, ${place.country}`;
  return placeName(place);
}
